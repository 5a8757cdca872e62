"""Dropping a creator's cached report, lookup and posts pages (``profiles.selectors.report``)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models.signals import post_delete
from django.dispatch import receiver

from profiles.models import Profile
from profiles.selectors.posts import posts_version_key
from profiles.selectors.report import lookup_key, report_key


def report_invalidate(*, profile: Profile) -> None:
    """Drop the cached report, lookup and posts pages of ``profile``."""
    cache.delete_many([report_key(profile.pk), lookup_key(profile.username)])
    try:
        cache.incr(posts_version_key(profile.pk))
    except ValueError:  # no version yet: nothing cached
        pass


@receiver(post_delete, sender=Profile, dispatch_uid="profiles.report.profile_deleted")
def profile_deleted(sender: Any, instance: Profile, **kwargs: Any) -> None:
    """A deleted profile's lookup must not outlive it: a new profile of the same name has a new id."""
    cache.delete_many([report_key(instance.pk), lookup_key(instance.username)])
