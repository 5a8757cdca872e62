"""Discovery's result pages: keyset (cursor) pagination, a capped total, the preview rows.

A page is ordered by the sort's value then ``id``, both descending, and continues after the
last row's ``(value, id)``: no offsets, so a deep page costs what the first does and rows
inserted meanwhile never shift a page (no duplicates, no gaps). For a nullable figure the
creators whose value is known come first (the partial index over known values), then the
unknown ones by ``id`` (phase 2 of the cursor).

The cursor is signed (``django.core.signing``) and carries the query's hash and the page
number, so that it cannot be replayed on another query nor renumbered to dodge a charge.
The total is exact up to ``DISCOVERY_TOTAL_EXACT_CAP`` and the planner's row estimate
beyond (PostgreSQL), flagged ``total_is_exact: false``; it is counted for the first page and
carried by the cursor to the next ones (the count, not the page, is what costs at scale).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

from config.errors import ValidationFailed
from discovery.selectors.filters import (
    SORTS,
    Sort,
    discoverable_profiles,
    filters_apply,
    relevance_annotate,
    relevance_candidates,
    unlocked_accesses,
)
from profiles.models import ContactEmailReveal, Profile
from profiles.selectors.search_fields import email_masked

_CURSOR_SALT = "discovery.cursor.v1"
PREVIEW_COLUMNS = (
    "id", "username", "full_name", "cdn_avatar_url", "followers_count", "engagement_rate",
    "ai_primary_content_type", "top_language", "is_verified", "contact_email",
)  # fmt: skip


@dataclass(frozen=True)
class Cursor:
    query: str  # the normalised query's hash
    page: int  # the page this cursor opens (2 for the first "next")
    phase: int  # 1: rows with a known value; 2: rows whose value is unknown (by id)
    value: Any
    last_id: str
    total: int | None = None  # the first page's total, carried so that next pages do not count again
    total_is_exact: bool = True


@dataclass
class SearchPage:
    results: list[dict[str, Any]]
    page: int
    page_size: int
    next_cursor: str | None
    total: int
    total_is_exact: bool
    sort: str
    notes: list[str] = field(default_factory=list)


def query_hash(*, filters: dict[str, Any], sort: str, page_size: int) -> str:
    """The normalised query's identity: filters with sorted keys and sorted list values."""
    normal = {
        key: sorted(value) if isinstance(value, list) else value
        for key, value in sorted(filters.items())
        if value not in (None, [], "")
    }
    raw = json.dumps({"f": normal, "s": sort, "n": page_size}, sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def cursor_encode(cursor: Cursor) -> str:
    value = cursor.value.isoformat() if isinstance(cursor.value, datetime) else cursor.value
    payload = {
        "q": cursor.query,
        "p": cursor.page,
        "h": cursor.phase,
        "v": value,
        "i": cursor.last_id,
        "t": cursor.total,
        "e": cursor.total_is_exact,
    }
    return signing.dumps(payload, salt=_CURSOR_SALT, compress=True)


def cursor_decode(token: str, *, query: str, sort: Sort) -> Cursor:
    """The cursor behind ``token`` for this query, or 400 naming ``cursor``."""
    try:
        data = signing.loads(token, salt=_CURSOR_SALT)
        value = data["v"]
        if value is not None and sort.kind == "datetime":
            value = datetime.fromisoformat(value)
        cursor = Cursor(
            query=data["q"],
            page=int(data["p"]),
            phase=int(data["h"]),
            value=value,
            last_id=data["i"],
            total=None if data.get("t") is None else int(data["t"]),
            total_is_exact=bool(data.get("e", True)),
        )
        UUID(cursor.last_id)
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise ValidationFailed(
            "cursor: not a cursor of this API.", code="invalid_cursor", details={"cursor": ["Invalid cursor."]}
        ) from exc
    if cursor.query != query:
        raise ValidationFailed(
            "cursor: this cursor belongs to another query (filters, sort or page_size changed).",
            code="invalid_cursor",
            details={"cursor": ["The cursor belongs to another query."]},
        )
    return cursor


def count_capped(queryset: QuerySet[Profile], cap: int) -> int | None:
    """The rows of ``queryset`` counted up to ``cap + 1``; None when counting takes longer than
    ``DISCOVERY_TOTAL_COUNT_MS`` (PostgreSQL: the statement is cancelled, nothing else is)."""
    capped = queryset.order_by().values("pk")[: cap + 1]
    if connection.vendor != "postgresql":
        return capped.count()
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('statement_timeout')")
        (previous,) = cur.fetchone()
    try:
        with transaction.atomic():  # a savepoint: a cancelled count rolls back only itself
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT set_config('statement_timeout', %s, true)", [f"{settings.DISCOVERY_TOTAL_COUNT_MS}ms"]
                )
            counted = capped.count()
            with connection.cursor() as cur:  # a released savepoint keeps SET LOCAL: put it back
                cur.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return counted
    except OperationalError:  # QueryCanceled: too slow to count exactly
        return None


def _estimate(queryset: QuerySet[Profile]) -> int:
    """The planner's row estimate of ``queryset`` (PostgreSQL; ``EXPLAIN`` plans, runs nothing)."""
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a condition that can match nothing (Django builds no SQL for it)
        return 0
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cur.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


def _total(queryset: QuerySet[Profile]) -> tuple[int, bool]:
    """The number of matches: exact up to ``DISCOVERY_TOTAL_EXACT_CAP``, else an estimate.

    On PostgreSQL the planner's estimate comes first (a plan, no rows read): far above the cap
    (``DISCOVERY_TOTAL_SKIP_FACTOR`` times) nothing is counted; otherwise the rows are counted
    up to the cap within ``DISCOVERY_TOTAL_COUNT_MS``, and past the cap or the time the
    estimate stands (``total_is_exact`` false).
    """
    cap = settings.DISCOVERY_TOTAL_EXACT_CAP
    if connection.vendor != "postgresql":
        counted = count_capped(queryset, cap)
        return counted, counted <= cap  # past the cap: "more than the cap", no estimate to give
    estimate = _estimate(queryset)
    if estimate >= cap * settings.DISCOVERY_TOTAL_SKIP_FACTOR:
        return estimate, False
    counted = count_capped(queryset, cap)
    if counted is not None and counted <= cap:
        return counted, True
    return (max(estimate, cap + 1) if counted is not None else estimate), False


def _sort_value(row: dict[str, Any], sort: Sort) -> Any:
    return row["rank"] if sort.column is None else row[sort.column]


def _phase_rows(queryset: QuerySet, sort: Sort, cursor: Cursor | None, limit: int, phase: int) -> list[dict]:
    column = "rank" if sort.column is None else sort.column
    if phase == 1:
        if sort.nullable:
            queryset = queryset.filter(**{f"{column}__isnull": False})
        if cursor is not None:
            # "value <= v" bounds the index range; the OR only breaks ties on id.
            queryset = queryset.filter(**{f"{column}__lte": cursor.value}).filter(
                Q(**{f"{column}__lt": cursor.value}) | Q(id__lt=cursor.last_id)
            )
        ordering = [f"-{column}", "-id"]
    else:
        queryset = queryset.filter(**{f"{column}__isnull": True})
        if cursor is not None and cursor.phase == 2:
            queryset = queryset.filter(id__lt=cursor.last_id)
        ordering = ["-id"]
    return list(queryset.order_by(*ordering)[:limit])


def search_page(
    *,
    filters: dict[str, Any],
    sort_name: str,
    page_size: int,
    cursor: Cursor | None,
    account_id: Any,
    query: str,
    unlock_price: int,
    with_total: bool = True,
) -> SearchPage:
    """One page of previews for validated filters (see ``filters_apply``)."""
    sort = SORTS[sort_name]
    base = filters_apply(discoverable_profiles(), filters, account_id=account_id)
    ordered = relevance_annotate(relevance_candidates(base, filters), filters) if sort.column is None else base
    columns = [*PREVIEW_COLUMNS, *([sort.column] if sort.column and sort.column not in PREVIEW_COLUMNS else [])]
    rows_qs = _with_viewer_flags(ordered, account_id).values(
        *columns, *(["rank"] if sort.column is None else []), "unlocked", "email_revealed"
    )
    rows: list[dict] = []
    if cursor is None or cursor.phase == 1:
        rows = _phase_rows(rows_qs, sort, cursor, page_size + 1, 1)
    if len(rows) <= page_size and sort.nullable:
        rows += _phase_rows(rows_qs, sort, cursor, page_size + 1 - len(rows), 2)
    more = len(rows) > page_size
    rows = rows[:page_size]
    page = cursor.page if cursor else 1
    if cursor is not None and cursor.total is not None:
        total, exact = cursor.total, cursor.total_is_exact
    else:
        total, exact = _total(base) if with_total else (0, False)
    next_cursor = None
    if more and rows:
        last = rows[-1]
        value = _sort_value(last, sort)
        next_cursor = cursor_encode(
            Cursor(
                query=query,
                page=page + 1,
                phase=1 if value is not None else 2,
                value=value,
                last_id=str(last["id"]),
                total=total,
                total_is_exact=exact,
            )
        )
    notes = []
    if sort.column is None and connection.vendor != "postgresql":
        notes.append("relevance needs PostgreSQL full-text search; ordered by followers here")
    elif sort.column is None and total > settings.DISCOVERY_RELEVANCE_CANDIDATES:
        notes.append(
            f"relevance ranks the {settings.DISCOVERY_RELEVANCE_CANDIDATES:,} most followed of "
            f"{'about ' if not exact else ''}{total:,} matches; add filters to rank the others"
        )
    return SearchPage(
        results=[_preview(row, unlock_price) for row in rows],
        page=page,
        page_size=page_size,
        next_cursor=next_cursor,
        total=total,
        total_is_exact=exact,
        sort=sort_name,
        notes=notes,
    )


def _with_viewer_flags(queryset: QuerySet[Profile], account_id: Any) -> QuerySet[Profile]:
    return queryset.annotate(
        unlocked=Exists(unlocked_accesses(account_id=account_id).filter(profile_id=OuterRef("pk"))),
        email_revealed=Exists(ContactEmailReveal.objects.filter(team_id=account_id, profile_id=OuterRef("pk"))),
    )


def lookalikes_page(
    *, profile: Profile, filters: dict[str, Any], page_size: int, account_id: Any, unlock_price: int
) -> SearchPage:
    """The creators most similar to ``profile`` among those matching ``filters``, best first.

    Similarity is ``analysis.selectors.profile_lookalikes`` (cosine over the profile
    embeddings); one page of up to ``page_size``, each preview with its ``similarity``.
    """
    from analysis.selectors import profile_lookalikes

    candidates = filters_apply(discoverable_profiles(), filters, account_id=account_id)
    scored = profile_lookalikes(profile=profile, candidates=candidates, limit=page_size)
    rows = {
        row["id"]: row
        for row in _with_viewer_flags(Profile.objects.filter(pk__in=[p.pk for p, _ in scored]), account_id).values(
            *PREVIEW_COLUMNS, "unlocked", "email_revealed"
        )
    }
    results = [{**_preview(rows[p.pk], unlock_price), "similarity": round(score, 4)} for p, score in scored]
    return SearchPage(
        results=results,
        page=1,
        page_size=page_size,
        next_cursor=None,
        total=len(results),
        total_is_exact=True,
        sort="similarity",
        notes=[f"creators most similar to @{profile.username} (one page)"],
    )


def _preview(row: dict[str, Any], unlock_price: int) -> dict[str, Any]:
    email = row["contact_email"]
    return {
        "username": row["username"],
        "full_name": row["full_name"],
        "avatar_url": row["cdn_avatar_url"] or None,
        "followers_count": row["followers_count"],
        "engagement_rate": row["engagement_rate"],
        "primary_category": row["ai_primary_content_type"] or None,
        "top_language": row["top_language"] or None,
        "is_verified": row["is_verified"],
        "unlocked": row["unlocked"],
        "unlock_price": 0 if row["unlocked"] else unlock_price,
        "has_email": bool(email),
        "email": (email if row["email_revealed"] else email_masked(email)) or None,
        "email_revealed": bool(email and row["email_revealed"]),
    }
