"""Exports of creators a team has unlocked, as CSV, JSON or XLSX.

Small exports (up to ``EXPORT_SYNC_MAX_PROFILES`` creators) are built in the request and
returned as a download; larger ones are stored as an ``Export`` built by a task and fetched
by id. Rows come from the cached typed reports (``profiles.selectors.report``) through the
columns of ``profiles.export_formats``, so an export says exactly what the API says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from config.errors import ValidationFailed
from config.tasks import task_send_on_commit
from profiles.export_formats import CONTENT_TYPES, export_render
from profiles.models import Export, Profile
from profiles.selectors.access import Actor
from profiles.selectors.exports import export_filename, export_profiles_accessible
from profiles.selectors.report import report_typed_get


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def _render(profiles: list[Profile], fmt: str, include_posts: bool) -> tuple[bytes, int]:
    reports = [report_typed_get(profile_id=p.pk) for p in profiles]
    return export_render(reports=reports, fmt=fmt, include_posts=include_posts)


def export_request(*, actor: Actor, usernames: list[str], fmt: str, include_posts: bool) -> ExportFile | Export:
    """Build a small export at once (``ExportFile``) or queue a large one (``Export``)."""
    usernames = list(dict.fromkeys(usernames))  # keep order, drop repeats
    profiles = export_profiles_accessible(actor=actor, usernames=usernames)
    if len(profiles) <= settings.EXPORT_SYNC_MAX_PROFILES:
        content, _ = _render(profiles, fmt, include_posts)
        return ExportFile(export_filename(fmt, timezone.now()), CONTENT_TYPES[fmt], content)
    export = Export.objects.create(
        team_id=actor.team_id, user_id=actor.user_id, usernames=usernames, format=fmt, include_posts=include_posts
    )
    task_send_on_commit("profiles.tasks.export_build", str(export.pk))  # profiles.tasks imports this module
    return export


def export_build(*, export_id: Any) -> Export | None:
    """Build a queued export (idempotent: a ready export is left as it is)."""
    export = Export.objects.filter(pk=export_id).select_related("user").first()
    if export is None or export.status == Export.Status.READY:
        return export
    try:
        actor = Actor(
            user_id=export.user_id, team_id=export.team_id, is_staff=bool(export.user and export.user.is_staff)
        )
        profiles = export_profiles_accessible(actor=actor, usernames=export.usernames)
    except ValidationFailed as exc:  # access expired between request and build
        export.status, export.error = Export.Status.FAILED, f"{exc.message} {exc.details}"
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at", "updated_at"])
        return export
    content, rows = _render(profiles, export.format, export.include_posts)
    export.file.save(f"{export.pk}.{export.format}", ContentFile(content), save=False)
    export.status, export.rows, export.finished_at = Export.Status.READY, rows, timezone.now()
    export.save(update_fields=["file", "status", "rows", "finished_at", "updated_at"])
    return export
