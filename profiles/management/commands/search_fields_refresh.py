"""``manage.py search_fields_refresh [--username U ...]``: recompute the stored search fields.

Discovery filters and sorts on columns stored by ``profiles.services.search_fields`` at each scrape and
pipeline run; this fills them for profiles stored before (or after a formula change).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from profiles.models import Profile
from profiles.selectors.search_fields import contact_email_extract
from profiles.services.search_fields import profile_search_fields_refresh


class Command(BaseCommand):
    help = "Recompute the discovery search fields (and contact emails from biographies) of profiles."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", action="append", default=[], help="Only these usernames (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        profiles = Profile.objects.order_by("username")
        if options["username"]:
            profiles = profiles.filter(username__in=[u.strip().lstrip("@").lower() for u in options["username"]])
        done = 0
        for profile in profiles.iterator(chunk_size=500):
            if not profile.contact_email:
                email, source = contact_email_extract(biography=profile.biography)
                if email:
                    Profile.objects.filter(pk=profile.pk).update(contact_email=email, contact_email_source=source)
                    profile.contact_email, profile.contact_email_source = email, source
            profile_search_fields_refresh(profile=profile)
            done += 1
        self.stdout.write(f"search fields refreshed for {done} profile(s)")
