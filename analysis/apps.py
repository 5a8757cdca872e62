from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"

    def ready(self) -> None:
        # Connects a Celery signal (the AI models load in workers of the ai queue) and a report hook.
        from analysis.engines.registry import connect_worker_signals
        from analysis.selectors import report_similar_creators
        from profiles.selectors.report import similar_creators_source_set

        connect_worker_signals()
        # The creator report's "similar creators" (profiles must not import analysis).
        similar_creators_source_set(report_similar_creators)
