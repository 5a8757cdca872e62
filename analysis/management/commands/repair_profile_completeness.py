"""``manage.py repair_profile_completeness``: find incomplete profiles and repair them.

``--scan-only`` lists what each incomplete profile misses; ``--dry-run`` also shows which
pipeline steps a repair would queue; ``--repair`` queues only those steps.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from analysis import services
from analysis.models import AnalysisJob
from analysis.selectors import repair_steps
from analysis.services import inline_pipeline
from profiles.models import Profile
from profiles.selectors.completeness import profile_completeness, profiles_incomplete


def _glob_to_regex(pattern: str) -> str:
    """A shell pattern as a regex that PostgreSQL and SQLite both understand."""
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return "^" + "".join(parts) + "$"


class Command(BaseCommand):
    help = "Scan for incomplete profiles (PRODUCT.md's six criteria) and repair them."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--scan-only", action="store_true", help="List incomplete profiles and what they miss.")
        mode.add_argument("--dry-run", action="store_true", help="Show the steps a repair would queue.")
        mode.add_argument("--repair", action="store_true", help="Queue the missing steps.")
        parser.add_argument("--limit", type=int, default=None, help="At most N profiles.")
        parser.add_argument("--username-filter", default=None, help="Shell pattern, e.g. 'nyc*' or '*food*'.")

    def handle(self, *args, scan_only, dry_run, repair, limit, username_filter, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        queryset = Profile.objects.all()
        if username_filter:
            queryset = queryset.filter(username__regex=_glob_to_regex(username_filter.lower()))
        incomplete = profiles_incomplete(queryset)[:limit]
        if not incomplete:
            self.stdout.write(self.style.SUCCESS("All profiles are complete."))
            return

        header = f"{'username':<30} {'stored':>6} {'ai':>4} {'thumbs':>6} {'need':>4}  missing -> steps"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))
        for profile, completeness in incomplete:
            self.stdout.write(
                f"{profile.username:<30} {completeness.posts_stored:>6} {completeness.posts_analysed:>4} "
                f"{completeness.posts_thumbnails:>6} {completeness.required_posts:>4}  "
                f"{', '.join(completeness.missing)} -> {', '.join(repair_steps(completeness=completeness))}"
            )
        self.stdout.write(f"{len(incomplete)} incomplete profile(s).")
        if scan_only or dry_run:
            return

        outcomes: dict[str, int] = {}
        with inline_pipeline():
            for profile, _ in tqdm(incomplete, desc="repairing", unit="profile", disable=None):
                job = services.profile_repair(profile=profile)
                status = job.status if job else "nothing to do"
                outcomes[status] = outcomes.get(status, 0) + 1
        complete_now = sum(profile_completeness(profile=p).is_complete for p, _ in incomplete)
        summary = ", ".join(f"{count} {status}" for status, count in sorted(outcomes.items()))
        message = f"Repair jobs: {summary}. Complete now: {complete_now}/{len(incomplete)}."
        self.stdout.write(self.style.SUCCESS(message))
        active = AnalysisJob.objects.filter(status__in=AnalysisJob.ACTIVE_STATUSES).count()
        if active:
            self.stdout.write(f"{active} job(s) still running on the workers.")
