"""Discovery filters and sorts: validated values -> ``Q`` objects and keyset orderings.

Filters combine with AND; the values inside one list filter (categories, languages,
hashtags) with OR. Every filter reads a stored column of ``Profile`` (see
``profiles.services.search_fields``), so that each is indexable at a million creators; an unknown value
(``NULL``) never satisfies a bound. Keywords use PostgreSQL full-text search over the stored
``search_vector`` (the ``simple`` configuration plus the one of the requested language), and
a plain ``icontains`` over name, biography and captions on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from profiles.models import Post, Profile, TeamProfileAccess
from profiles.selectors.search_fields import ts_config

# name -> (column, lookup)
RANGE_FILTERS: dict[str, tuple[str, str]] = {
    "followers_min": ("followers_count", "gte"),
    "followers_max": ("followers_count", "lte"),
    "engagement_rate_min": ("engagement_rate", "gte"),
    "engagement_rate_max": ("engagement_rate", "lte"),
    "avg_likes_min": ("avg_likes", "gte"),
    "avg_views_min": ("avg_views", "gte"),
    "posts_per_week_min": ("posts_per_week", "gte"),
    "audience_quality_min": ("audience_quality_score", "gte"),
    "sponsored_share_max": ("sponsored_share", "lte"),
    "growth_30d_min": ("growth_30d", "gte"),
}
BOOLEAN_FILTERS: dict[str, str] = {"verified": "is_verified", "business_account": "is_business"}


@dataclass(frozen=True)
class Sort:
    name: str
    column: str | None  # None: relevance (computed rank)
    nullable: bool
    kind: str  # "int" | "float" | "datetime"


SORTS: dict[str, Sort] = {
    "followers": Sort("followers", "followers_count", False, "int"),
    "engagement_rate": Sort("engagement_rate", "engagement_rate", True, "float"),
    "avg_engagement": Sort("avg_engagement", "avg_engagement", True, "float"),
    "growth": Sort("growth", "growth_30d", True, "float"),
    "quality": Sort("quality", "audience_quality_score", True, "float"),
    "recent_post": Sort("recent_post", "last_post_at", True, "datetime"),
    "relevance": Sort("relevance", None, False, "float"),
}


def category_names() -> list[str]:
    """The category taxonomy: the AI engine's categories (``AI_CATEGORIES``)."""
    return list(settings.AI_CATEGORIES)


def discoverable_profiles() -> QuerySet[Profile]:
    """The creators browse and search show: scraped, public and AI-analysed."""
    return Profile.objects.filter(discoverable=True)


def unlocked_accesses(*, account_id: Any) -> QuerySet[TeamProfileAccess]:
    """The active team's unexpired unlocks (``account_id`` is the team's id)."""
    return TeamProfileAccess.objects.filter(team_id=account_id, expires_at__gt=timezone.now())


def keyword_query(keywords: str, languages: list[str] | None) -> SearchQuery:
    """``simple`` OR the language's configuration, in web-search syntax ("quoted", -not, or)."""
    config = ts_config(languages[0]) if languages else ts_config("")
    return SearchQuery(keywords, config="simple", search_type="websearch") | SearchQuery(
        keywords, config=config, search_type="websearch"
    )


def _keywords_fallback(keywords: str) -> Q:
    """Every word in the name, the biography or a caption (SQLite)."""
    condition = Q()
    for word in keywords.replace('"', " ").split():
        if word.startswith("-") or word.lower() == "or":
            continue
        in_captions = Exists(Post.objects.filter(profile=OuterRef("pk"), caption__icontains=word))
        condition &= Q(full_name__icontains=word) | Q(biography__icontains=word) | in_captions
    return condition


def _hashtags_q(tags: list[str]) -> Q:
    condition = Q()
    for tag in tags:
        if connection.vendor == "postgresql":
            condition |= Q(search_hashtags__contains=[tag])  # jsonb @>, GIN jsonb_path_ops
        else:
            condition |= Q(search_hashtags__icontains=f'"{tag}"')
    return condition


def filters_apply(queryset: QuerySet[Profile], filters: dict[str, Any], *, account_id: Any) -> QuerySet[Profile]:
    """``queryset`` narrowed by validated ``filters`` (see ``discovery.api.serializers``)."""
    conditions = Q()
    for name, (column, lookup) in RANGE_FILTERS.items():
        if filters.get(name) is not None:
            conditions &= Q(**{f"{column}__{lookup}": filters[name]})
    for name, column in BOOLEAN_FILTERS.items():
        if filters.get(name) is not None:
            conditions &= Q(**{column: filters[name]})
    if filters.get("has_email") is not None:
        conditions &= ~Q(contact_email="") if filters["has_email"] else Q(contact_email="")
    if filters.get("categories"):
        conditions &= Q(ai_primary_content_type__in=filters["categories"])
    if filters.get("languages"):
        conditions &= Q(top_language__in=filters["languages"])
    if filters.get("last_post_within_days") is not None:
        conditions &= Q(last_post_at__gte=timezone.now() - timedelta(days=filters["last_post_within_days"]))
    if filters.get("hashtags"):
        conditions &= _hashtags_q(filters["hashtags"])
    queryset = queryset.filter(conditions)
    if filters.get("exclude_unlocked"):
        queryset = queryset.exclude(Exists(unlocked_accesses(account_id=account_id).filter(profile_id=OuterRef("pk"))))
    if filters.get("keywords"):
        if connection.vendor == "postgresql":
            query = keyword_query(filters["keywords"], filters.get("languages"))
            queryset = queryset.filter(search_vector=query)
        else:
            queryset = queryset.filter(_keywords_fallback(filters["keywords"]))
    return queryset


def relevance_candidates(queryset: QuerySet[Profile], filters: dict[str, Any]) -> QuerySet[Profile]:
    """The matches that relevance ranks: at most ``DISCOVERY_RELEVANCE_CANDIDATES``, the most
    followed (PostgreSQL with keywords; elsewhere relevance is the followers order anyway).

    ``ts_rank`` is computed per row: ranking every match of a common word would read and rank
    each of them. The candidates come from the followers index (or the GIN bitmap for a rare
    word: the planner chooses), then only they are ranked.
    """
    if connection.vendor != "postgresql" or not filters.get("keywords"):
        return queryset
    limit = settings.DISCOVERY_RELEVANCE_CANDIDATES
    top = queryset.order_by(F("followers_count").desc(), "-id").values("pk")[:limit]
    # Every filter is applied inside ``top``: the outer query reads the candidates by id only
    # (applying the filters again would recheck each candidate's search vector a second time).
    return Profile.objects.filter(pk__in=top)


def relevance_annotate(queryset: QuerySet[Profile], filters: dict[str, Any]) -> QuerySet[Profile]:
    """Annotate ``rank`` (PostgreSQL ``ts_rank``; followers as a proxy on SQLite)."""
    if connection.vendor == "postgresql" and filters.get("keywords"):
        query = keyword_query(filters["keywords"], filters.get("languages"))
        return queryset.annotate(rank=SearchRank(F("search_vector"), query))
    return queryset.annotate(rank=F("followers_count"))
