from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"

    def ready(self) -> None:
        # Only connects a Celery signal; the AI models load in workers of the ai queue.
        from analysis.engines.registry import connect_worker_signals

        connect_worker_signals()
