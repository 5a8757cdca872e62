"""``manage.py load_sample_creators``: import and analyse every creator of the dataset directory.

`make run` calls it so that a fresh machine shows complete creators offline. It runs the
real pipeline (scrape from the dataset provider, CDN, AI) for each creator of the exports
in ``SCRAPER_DATASET_DIR`` and skips creators that are already complete, so a second run
does nothing. With a real broker the jobs are queued for the workers instead.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from analysis import services
from analysis.models import AnalysisJob
from analysis.services import inline_pipeline
from profiles.models import Profile
from profiles.providers.dataset import dataset_index
from profiles.selectors.completeness import profile_completeness


class Command(BaseCommand):
    help = "Import and analyse the creators of the dataset directory (complete ones are skipped)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None, help="Exports folder (default: SCRAPER_DATASET_DIR).")
        parser.add_argument("--limit", type=int, default=0, help="At most this many creators (0: all).")

    def handle(self, *args, dir: Path | None, limit: int, **options):
        if settings.SCRAPER_PROVIDER != "dataset":
            self.stdout.write(f"SCRAPER_PROVIDER is {settings.SCRAPER_PROVIDER!r}: no sample creators to load.")
            return
        directory = Path(dir or settings.SCRAPER_DATASET_DIR)
        if dir is not None and directory.resolve() != Path(settings.SCRAPER_DATASET_DIR).resolve():
            raise CommandError("--dir must be SCRAPER_DATASET_DIR: the pipeline scrapes from that folder.")
        # Only full profiles (with posts) can be analysed; related-profile stubs cannot.
        usernames = sorted(username for username, scraped in dataset_index(directory).items() if scraped.posts)
        if limit:
            usernames = usernames[:limit]
        if not usernames:
            self.stdout.write(f"No creators with posts in {directory}.")
            return
        counts = {"skipped": 0, "completed": 0, "queued": 0, "partial": 0, "failed": 0}
        for username in usernames:
            outcome = self._load(username)
            counts[outcome] += 1
        summary = ", ".join(f"{count} {name}" for name, count in counts.items() if count)
        self.stdout.write(self.style.SUCCESS(f"Sample creators from {directory}: {summary}."))
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} sample creator(s) failed; see the analysis jobs in the admin.")

    def _load(self, username: str) -> str:
        profile = Profile.objects.filter(username=username).first()
        if profile is not None and profile_completeness(profile=profile).is_complete:
            self.stdout.write(f"  @{username}: already complete")
            return "skipped"
        started = time.monotonic()
        with inline_pipeline():
            job, _ = services.job_start(username=username, trigger=AnalysisJob.Trigger.COMMAND)
        job.refresh_from_db()
        if job.status not in AnalysisJob.TERMINAL_STATUSES:
            self.stdout.write(f"  @{username}: job {job.pk} queued for the workers")
            return "queued"
        line = f"  @{username}: {job.status} in {time.monotonic() - started:.1f} s"
        if job.status != AnalysisJob.Status.COMPLETED:
            line += f" ({job.error_stage}: {job.error_category} {job.error_detail})"
        self.stdout.write(line)
        return str(job.status)
