"""Import Apify Instagram-scraper exports (details or posts shape) into the database.

    manage.py import_apify_dataset FILE [FILE ...] [--captured-at ISO]

Idempotent: each export's snapshot is taken at the export's own time, the file's modification
time (when the export was written, the closest thing to the scrape time that the export
carries), unless ``--captured-at`` says otherwise; importing the same file again upserts the
same rows and adds no snapshot. Relative image paths resolve against the file's directory.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from profiles.providers.dataset import load_export
from profiles.providers.normalize import timestamp
from profiles.services import ImportSummary, profiles_import


class Command(BaseCommand):
    help = "Import Apify Instagram exports (details or posts) idempotently, with a summary."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
        parser.add_argument(
            "--captured-at",
            help="ISO time of the scrape, for the snapshots (default: each file's modification time).",
        )

    def handle(self, *args, files: list[Path], captured_at: str | None = None, **options):
        forced = timestamp(captured_at) if captured_at else None
        if captured_at and forced is None:
            raise CommandError(f"--captured-at: not an ISO date-time: {captured_at!r}")
        missing = [str(path) for path in files if not path.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        summary = ImportSummary()
        loaded = []
        for path in files:
            profiles, problems = load_export(path)
            summary.errors.extend(problems)
            when = forced or datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
            loaded.append((profiles, when))
        total = sum(len(profiles) for profiles, _ in loaded)
        with tqdm(
            total=total, unit="profile", disable=total == 0, file=getattr(self.stderr, "_out", sys.stderr)
        ) as bar:
            for profiles, when in loaded:
                profiles_import(
                    scraped_profiles=profiles, captured_at=when, summary=summary, on_progress=lambda _: bar.update()
                )
        self._report(summary)

    def _report(self, summary: ImportSummary) -> None:
        lines = [
            f"profiles: {summary.profiles_created} created, {summary.profiles_updated} updated",
            f"posts: {summary.posts_created} created, {summary.posts_updated} updated",
            f"related profiles: {summary.related}",
            f"snapshots: {summary.snapshots} created",
            f"errors: {len(summary.errors)}",
        ]
        self.stdout.write(self.style.SUCCESS("Import finished.") + "\n" + "\n".join(f"  {line}" for line in lines))
        for error in summary.errors:
            self.stdout.write(self.style.WARNING(f"  ! {error}"))
