"""``manage.py discovery_stats``: the related-creator queue's counts, recent activity and limits."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from discovery.selectors import discovery_queue_stats


class Command(BaseCommand):
    help = "Print the discovery queue: candidates by status and reason, recent starts, the limits."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="One JSON object instead of text.")

    def handle(self, *args, as_json: bool = False, **options):
        stats = discovery_queue_stats()
        if as_json:
            self.stdout.write(json.dumps({**stats, "now": stats["now"].isoformat()}, sort_keys=True))
            return
        by_status, limits = stats["by_status"], stats["limits"]
        self.stdout.write(
            "candidates: "
            + ", ".join(f"{by_status[name]} {name}" for name in ("queued", "running", "done", "skipped", "failed"))
            + f" ({by_status['queued_due']} queued and due now)"
        )
        if stats["reasons"]:
            reasons = ", ".join(f"{count} {reason}" for reason, count in sorted(stats["reasons"].items()))
            self.stdout.write(f"reasons: {reasons}")
        for label, key in (("last hour", "last_hour"), ("today (UTC)", "today"), ("last 24 h", "last_day")):
            window = stats[key]
            self.stdout.write(
                f"{label}: {window['started']} started, {window['done']} done, "
                f"{window['skipped']} skipped, {window['failed']} failed"
            )
        self.stdout.write(
            f"limits: {limits['max_running']} running at once ({limits['running_left']} free), "
            f"{limits['per_hour']} per hour ({limits['hour_left']} left), "
            f"{limits['per_day']} per day ({limits['day_left']} left), "
            f"{limits['max_attempts']} attempts, minimum {limits['min_followers']} followers"
        )
