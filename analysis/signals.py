"""Signals of the analysis app, sent after the transaction that changed the job commits."""

from django.dispatch import Signal

# A job ended ``failed``. Arguments: ``job`` (the AnalysisJob, with error_stage/category/detail).
job_failed = Signal()
