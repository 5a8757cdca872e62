"""``manage.py analyze_profile USERNAME [--wait]``: run the creator pipeline from the shell."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis import services
from analysis.models import AnalysisJob
from analysis.services import inline_pipeline
from config.errors import ApplicationError


class Command(BaseCommand):
    help = "Scrape, store media and analyse a creator (joins the running job if there is one)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--wait", action="store_true", help="Wait for the job to end and print its events.")
        parser.add_argument("--reanalyse", action="store_true", help="Recompute AI results of every post.")
        parser.add_argument("--timeout", type=float, default=600.0, help="Seconds to wait at most (with --wait).")

    def handle(self, *args, username: str, wait: bool, reanalyse: bool, timeout: float, **options):
        try:
            with inline_pipeline():  # without a broker the pipeline runs here, before we return
                job, created = services.job_start(
                    username=username,
                    trigger=AnalysisJob.Trigger.COMMAND,
                    options={"force_ai": True} if reanalyse else None,
                )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"job {job.pk} for @{job.username} ({'started' if created else 'joined'})")
        if wait or settings.CELERY_TASK_ALWAYS_EAGER:
            job = self._follow(job, timeout)
        if job.status == AnalysisJob.Status.FAILED:
            raise CommandError(f"job {job.pk} failed in {job.error_stage}: {job.error_category} {job.error_detail}")
        self.stdout.write(self.style.SUCCESS(f"job {job.pk}: {job.status}"))

    def _follow(self, job: AnalysisJob, timeout: float) -> AnalysisJob:
        last_id, deadline = 0, time.monotonic() + timeout
        while True:
            job.refresh_from_db()
            for event in job.events.filter(id__gt=last_id).order_by("id"):
                last_id = event.id
                self.stdout.write(f"  {event.created_at:%H:%M:%S} {event.progress:>3}% {event.status}: {event.message}")
            if job.status in AnalysisJob.TERMINAL_STATUSES:
                return job
            if time.monotonic() > deadline:
                raise CommandError(f"job {job.pk} still {job.status} after {timeout:.0f} s")
            time.sleep(0.5)
