"""Export files: the columns of creators and posts, read from the typed report, and the
CSV / JSON / XLSX rendering (with spreadsheet formula injection neutralised)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from config.shapes import to_data  # dates in ISO 8601 and ids as text, as the API sends them
from profiles.models import Export
from profiles.selectors.report_types import Report, ReportPost

CONTENT_TYPES = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.JSON: "application/json",
    Export.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _top_language(report: Report) -> str | None:
    languages = report.content.language_distribution or {}
    return max(languages, key=languages.get) if languages else None


@dataclass(frozen=True)
class ProfileColumn:
    name: str
    value: Callable[[Report], Any]


@dataclass(frozen=True)
class PostColumn:
    name: str
    value: Callable[[Report, ReportPost], Any]


PROFILE_COLUMNS: tuple[ProfileColumn, ...] = (
    ProfileColumn("username", lambda r: r.overview.username),
    ProfileColumn("full_name", lambda r: r.overview.full_name),
    ProfileColumn("profile_url", lambda r: r.overview.profile_url),
    ProfileColumn("followers_count", lambda r: r.overview.followers_count),
    ProfileColumn("following_count", lambda r: r.overview.following_count),
    ProfileColumn("posts_count", lambda r: r.overview.posts_count),
    ProfileColumn("is_verified", lambda r: r.overview.is_verified),
    ProfileColumn("is_business", lambda r: r.overview.is_business),
    ProfileColumn("category", lambda r: r.overview.category),
    ProfileColumn("external_url", lambda r: r.overview.external_url),
    ProfileColumn("engagement_rate", lambda r: r.engagement.engagement_rate),
    ProfileColumn("mean_likes", lambda r: r.engagement.mean_likes),
    ProfileColumn("mean_comments", lambda r: r.engagement.mean_comments),
    ProfileColumn("video_view_rate", lambda r: r.engagement.video_view_rate),
    ProfileColumn("posts_per_week", lambda r: r.engagement.posts_per_week),
    ProfileColumn("audience_quality_score", lambda r: r.audience.quality.score),
    ProfileColumn("primary_category", lambda r: r.content.primary_category),
    ProfileColumn("avg_sentiment", lambda r: r.content.avg_sentiment),
    ProfileColumn("content_quality_score", lambda r: r.content.quality_score),
    ProfileColumn("top_language", _top_language),
    ProfileColumn("top_hashtags", lambda r: " ".join(f"#{t.tag}" for t in r.content.top_hashtags[:10])),
    ProfileColumn("last_refreshed_at", lambda r: r.overview.last_refreshed_at),
)
POST_COLUMNS: tuple[PostColumn, ...] = (
    PostColumn("username", lambda r, p: r.overview.username),
    PostColumn("shortcode", lambda r, p: p.shortcode),
    PostColumn("url", lambda r, p: p.url),
    PostColumn("type", lambda r, p: p.type),
    PostColumn("posted_at", lambda r, p: p.posted_at),
    PostColumn("likes_count", lambda r, p: p.likes_count),
    PostColumn("comments_count", lambda r, p: p.comments_count),
    PostColumn("video_view_count", lambda r, p: p.video_view_count),
    PostColumn("engagement_rate", lambda r, p: p.engagement_rate),
    PostColumn("is_sponsored", lambda r, p: p.is_sponsored),
    PostColumn("ai_category", lambda r, p: p.ai.category),
    PostColumn("ai_sentiment", lambda r, p: p.ai.sentiment),
    PostColumn("ai_sentiment_score", lambda r, p: p.ai.sentiment_score),
    PostColumn("ai_language", lambda r, p: p.ai.language),
    PostColumn("hashtags", lambda r, p: " ".join(f"#{tag}" for tag in p.hashtags)),
    PostColumn("mentions", lambda r, p: " ".join(f"@{m}" for m in p.mentions)),
    PostColumn("caption", lambda r, p: p.caption),
    PostColumn("thumbnail_url", lambda r, p: p.thumbnail_url),
)
PROFILE_COLUMN_NAMES = [column.name for column in PROFILE_COLUMNS]
POST_COLUMN_NAMES = [column.name for column in POST_COLUMNS]


def profile_row(report: Report) -> dict[str, Any]:
    return {column.name: to_data(column.value(report)) for column in PROFILE_COLUMNS}


def post_rows(report: Report) -> list[dict[str, Any]]:
    return [{column.name: to_data(column.value(report, post)) for column in POST_COLUMNS} for post in report.posts]


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
            sheet.append([cell_safe(row.get(column)) for column in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def cell_safe(value: Any) -> Any:
    """A cell value a spreadsheet will not run: text starting with = + - @ would be a formula
    (CSV/formula injection), and some programs strip a leading tab or carriage return first
    (OWASP's list), so such text gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_render(*, reports: list[Report], fmt: str, include_posts: bool) -> tuple[bytes, int]:
    """The export's bytes and its row count."""
    profiles = [profile_row(report) for report in reports]
    posts = [row for report in reports for row in post_rows(report)] if include_posts else []
    if fmt == Export.Format.JSON:
        body: dict[str, Any] = {"generated_at": timezone.now().isoformat(), "profiles": profiles}
        if include_posts:
            body["posts"] = posts
        return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode("utf-8"), len(profiles) + len(posts)
    if fmt == Export.Format.XLSX:
        sheets = [("Profiles", PROFILE_COLUMN_NAMES, profiles)]
        if include_posts:
            sheets.append(("Posts", POST_COLUMN_NAMES, posts))
        return _xlsx(sheets), len(profiles) + len(posts)
    # CSV holds one table: the posts (each with its creator's username) when asked for, else profiles.
    if include_posts:
        return _csv([{k: cell_safe(v) for k, v in row.items()} for row in posts], POST_COLUMN_NAMES), len(posts)
    return _csv([{k: cell_safe(v) for k, v in row.items()} for row in profiles], PROFILE_COLUMN_NAMES), len(profiles)
