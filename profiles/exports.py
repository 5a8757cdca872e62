"""Exports of creators a user can access, as CSV, JSON or XLSX.

Small exports (up to ``EXPORT_SYNC_MAX_PROFILES`` creators) are built in the request and
returned as a download; larger ones are stored as an ``Export`` built by a task and fetched
by id. Rows come from the cached reports, so an export says exactly what the API says.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from config.errors import NotFound, ValidationFailed
from config.tasks import task_send_on_commit
from profiles.models import Export, Profile
from profiles.report import report_get
from profiles.selectors import Actor, profiles_viewable

PROFILE_COLUMNS = [
    "username", "full_name", "profile_url", "followers_count", "following_count", "posts_count", "is_verified",
    "is_business", "category", "external_url", "engagement_rate", "mean_likes", "mean_comments", "video_view_rate",
    "posts_per_week", "audience_quality_score", "primary_category", "avg_sentiment", "content_quality_score",
    "top_language", "top_hashtags", "last_refreshed_at",
]  # fmt: skip
POST_COLUMNS = [
    "username", "shortcode", "url", "type", "posted_at", "likes_count", "comments_count", "video_view_count",
    "engagement_rate", "is_sponsored", "ai_category", "ai_sentiment", "ai_sentiment_score", "ai_language",
    "hashtags", "mentions", "caption", "thumbnail_url",
]  # fmt: skip
CONTENT_TYPES = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.JSON: "application/json",
    Export.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes


def _profile_row(report: dict[str, Any]) -> dict[str, Any]:
    overview, engagement, content = report["overview"], report["engagement"], report["content"]
    languages = content["language_distribution"] or {}
    return {
        "username": overview["username"],
        "full_name": overview["full_name"],
        "profile_url": overview["profile_url"],
        "followers_count": overview["followers_count"],
        "following_count": overview["following_count"],
        "posts_count": overview["posts_count"],
        "is_verified": overview["is_verified"],
        "is_business": overview["is_business"],
        "category": overview["category"],
        "external_url": overview["external_url"],
        "engagement_rate": engagement["engagement_rate"],
        "mean_likes": engagement["mean_likes"],
        "mean_comments": engagement["mean_comments"],
        "video_view_rate": engagement["video_view_rate"],
        "posts_per_week": engagement["posts_per_week"],
        "audience_quality_score": report["audience"]["quality"]["score"],
        "primary_category": content["primary_category"],
        "avg_sentiment": content["avg_sentiment"],
        "content_quality_score": content["quality_score"],
        "top_language": max(languages, key=languages.get) if languages else None,
        "top_hashtags": " ".join(f"#{t['tag']}" for t in content["top_hashtags"][:10]),
        "last_refreshed_at": overview["last_refreshed_at"],
    }


def _post_rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    username = report["overview"]["username"]
    return [
        {
            "username": username,
            "shortcode": post["shortcode"],
            "url": post["url"],
            "type": post["type"],
            "posted_at": post["posted_at"],
            "likes_count": post["likes_count"],
            "comments_count": post["comments_count"],
            "video_view_count": post["video_view_count"],
            "engagement_rate": post["engagement_rate"],
            "is_sponsored": post["is_sponsored"],
            "ai_category": post["ai"]["category"],
            "ai_sentiment": post["ai"]["sentiment"],
            "ai_sentiment_score": post["ai"]["sentiment_score"],
            "ai_language": post["ai"]["language"],
            "hashtags": " ".join(f"#{tag}" for tag in post["hashtags"]),
            "mentions": " ".join(f"@{m}" for m in post["mentions"]),
            "caption": post["caption"],
            "thumbnail_url": post["thumbnail_url"],
        }
        for post in report["posts"]
    ]


def _csv(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    # A BOM makes spreadsheet programs read the file as UTF-8 (names in any script).
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _xlsx(sheets: list[tuple[str, list[str], list[dict[str, Any]]]]) -> bytes:
    from openpyxl import Workbook  # only exports need it

    workbook = Workbook(write_only=True)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title)
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(column)) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _cell(value: Any) -> Any:
    # Spreadsheets would run text starting with = + - @ as a formula (CSV/formula injection),
    # and some strip a leading tab or carriage return first (OWASP's list).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_render(*, reports: list[dict[str, Any]], fmt: str, include_posts: bool) -> tuple[bytes, int]:
    """The export's bytes and its row count."""
    profiles = [_profile_row(report) for report in reports]
    posts = [row for report in reports for row in _post_rows(report)] if include_posts else []
    if fmt == Export.Format.JSON:
        body = {"generated_at": timezone.now().isoformat(), "profiles": profiles}
        if include_posts:
            body["posts"] = posts
        return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode("utf-8"), len(profiles) + len(posts)
    if fmt == Export.Format.XLSX:
        sheets = [("Profiles", PROFILE_COLUMNS, profiles)]
        if include_posts:
            sheets.append(("Posts", POST_COLUMNS, posts))
        return _xlsx(sheets), len(profiles) + len(posts)
    # CSV holds one table: the posts (each with its creator's username) when asked for, else profiles.
    if include_posts:
        return _csv([{k: _cell(v) for k, v in row.items()} for row in posts], POST_COLUMNS), len(posts)
    return _csv([{k: _cell(v) for k, v in row.items()} for row in profiles], PROFILE_COLUMNS), len(profiles)


def _accessible_profiles(*, actor: Actor, usernames: list[str]) -> list[Profile]:
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


def export_request(*, actor: Actor, usernames: list[str], fmt: str, include_posts: bool) -> ExportFile | Export:
    """Build a small export at once (``ExportFile``) or queue a large one (``Export``)."""
    usernames = list(dict.fromkeys(usernames))  # keep order, drop repeats
    profiles = _accessible_profiles(actor=actor, usernames=usernames)
    if len(profiles) <= settings.EXPORT_SYNC_MAX_PROFILES:
        content, _ = export_render(
            reports=[report_get(profile_id=p.pk) for p in profiles], fmt=fmt, include_posts=include_posts
        )
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
        profiles = _accessible_profiles(actor=actor, usernames=export.usernames)
    except ValidationFailed as exc:  # access expired between request and build
        export.status, export.error = Export.Status.FAILED, f"{exc.message} {exc.details}"
        export.finished_at = timezone.now()
        export.save(update_fields=["status", "error", "finished_at", "updated_at"])
        return export
    content, rows = export_render(
        reports=[report_get(profile_id=p.pk) for p in profiles], fmt=export.format, include_posts=export.include_posts
    )
    export.file.save(f"{export.pk}.{export.format}", ContentFile(content), save=False)
    export.status, export.rows, export.finished_at = Export.Status.READY, rows, timezone.now()
    export.save(update_fields=["file", "status", "rows", "finished_at", "updated_at"])
    return export


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
