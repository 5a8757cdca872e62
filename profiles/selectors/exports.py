"""Reads of exports: a team's export, its file name and signed URL, and the creators an actor may export."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from config.errors import NotFound, ValidationFailed
from profiles.models import Export, Profile
from profiles.selectors.access import Actor, profiles_viewable


def export_profiles_accessible(*, actor: Actor, usernames: list[str]) -> list[Profile]:
    """The named creators, in order, when the actor may see every one (400 naming the others)."""
    profiles = {
        p.username: p for p in profiles_viewable(actor=actor, usernames=usernames).filter(last_scraped_at__isnull=False)
    }
    refused = [name for name in usernames if name not in profiles]
    if refused:
        raise ValidationFailed(
            "Only creators you have unlocked can be exported.",
            code="creators_not_accessible",
            details={"usernames": refused},
        )
    return [profiles[name] for name in usernames]


def export_filename(fmt: str, stamp: Any) -> str:
    return f"creators-{stamp:%Y%m%d-%H%M%S}.{fmt}"


def export_get(*, team_id: Any, export_id: Any) -> Export:
    """One of the team's exports (404 for anyone else's)."""
    export = Export.objects.filter(pk=export_id, team_id=team_id).first()
    if export is None:
        raise NotFound("No such export.", code="export_not_found")
    return export


def export_signed_url(*, export: Export) -> str | None:
    """A short-lived signed URL of a ready export in a private bucket (``EXPORT_URL_SECONDS``),
    or None when the exports' storage cannot sign URLs (local files: the API streams them)."""
    storage = export.file.storage
    if not getattr(storage, "querystring_auth", False):
        return None
    filename = export_filename(export.format, export.created_at)
    return storage.url(
        export.file.name,
        parameters={"ResponseContentDisposition": f'attachment; filename="{filename}"'},
        expire=settings.EXPORT_URL_SECONDS,
    )
