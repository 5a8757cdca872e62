"""``manage.py discovery_run [--once]``: run the related-creator queue without the beat.

Each tick does what the beat task does (take in related profiles, settle ended jobs, start
jobs within the limits). Without a broker the started jobs run in this process before the
next tick; with one they are queued for the workers.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from analysis.services import inline_pipeline
from discovery.services.queue import discovery_tick


class Command(BaseCommand):
    help = "Run the discovery queue: one tick with --once, else a tick every --interval seconds until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one tick and exit.")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between ticks (default 60).")

    def handle(self, *args, once: bool, interval: float, **options):
        while True:
            with inline_pipeline():
                result = discovery_tick()
            self.stdout.write(f"discovery tick: {result}")
            if once:
                return
            try:
                time.sleep(max(interval, 1.0))
            except KeyboardInterrupt:
                return
