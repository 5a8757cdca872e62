"""Discovery's overview reads: creators per category and language, the team's dashboard.

The per-category and per-language counts are one ``GROUP BY`` over the partial indexes of
discoverable creators (about a second at a million creators), cached
``DISCOVERY_COUNTS_CACHE_SECONDS`` (they change slowly: a creator becomes discoverable when
its analysis ends), so a request costs one cache read. A periodic task
(``discovery.tasks.discovery_counts_refresh``, every two minutes) recomputes them before they
expire, so no request pays for the ``GROUP BY`` (only the first after the cache is emptied).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from analysis.models import AnalysisJob
from credits.selectors import allowance_for, plan_free, pricing_rule_get, wallet_get
from discovery.selectors.filters import category_names, discoverable_profiles, unlocked_accesses
from profiles.models import Export

_COUNTS_KEY = "discovery:counts:v1:{column}"
DISCOVERY_ACTIONS = ("discovery_pagination", "advanced_search", "email_unlock", "influencer_unlock")


_COUNTED_COLUMNS = ("ai_primary_content_type", "top_language")


def _counts_compute(column: str) -> dict[str, int]:
    rows = discoverable_profiles().order_by().values_list(column).annotate(n=Count("*"))
    counts = {value or "": n for value, n in rows}
    cache.set(_COUNTS_KEY.format(column=column), counts, settings.DISCOVERY_COUNTS_CACHE_SECONDS)
    return counts


def _counts(column: str) -> dict[str, int]:
    cached = cache.get(_COUNTS_KEY.format(column=column))
    return cached if cached is not None else _counts_compute(column)


def counts_refresh() -> dict[str, int]:
    """Recompute and cache the category and language counts (the periodic task); their sizes."""
    return {column: len(_counts_compute(column)) for column in _COUNTED_COLUMNS}


def counts_invalidate() -> None:
    """Drop the cached counts (after a bulk import, for instance)."""
    cache.delete_many([_COUNTS_KEY.format(column=c) for c in _COUNTED_COLUMNS])


def category_counts() -> list[dict[str, Any]]:
    """Every category of the taxonomy with its number of discoverable creators."""
    counts = _counts("ai_primary_content_type")
    return [{"name": name, "creators": counts.get(name, 0)} for name in category_names()]


def language_counts() -> list[dict[str, Any]]:
    counts = _counts("top_language")
    return [
        {"language": code or None, "creators": n} for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def discovery_allowances(*, account_id: Any) -> list[dict[str, Any]]:
    """Price, free uses and plan quota (and what is left this cycle) of the discovery actions."""
    wallet = wallet_get(account_id=account_id)
    plan = wallet.plan if wallet else plan_free()
    result = []
    for action in DISCOVERY_ACTIONS:
        rule = pricing_rule_get(action_type=action)
        allowance = allowance_for(
            wallet=wallet, plan=plan, rule=rule, cycle_start=wallet.cycle_start if wallet else None
        )
        result.append(
            {
                "action_type": action,
                "credits_per_unit": rule.credits_per_unit,
                "free_uses_per_month": rule.free_uses_per_month,
                "free_left": allowance.free_left,
                "plan_quota": allowance.plan_quota,
                "plan_left": allowance.plan_left,
                "description": rule.description,
            }
        )
    return result


def dashboard(*, account_id: Any) -> dict[str, Any]:
    """The discovery dashboard of the active team (``account_id`` is the team's id)."""
    now = timezone.now()
    wallet = wallet_get(account_id=account_id)
    cycle_start = wallet.cycle_start if wallet else now
    allowances = {a["action_type"]: a for a in discovery_allowances(account_id=account_id)}
    week_ago = now - timedelta(days=7)
    jobs = AnalysisJob.objects.filter(team_id=account_id).order_by("-created_at")[:5]
    return {
        "creators": {
            "total": sum(_counts("ai_primary_content_type").values()),
            "new_this_week": discoverable_profiles().filter(created_at__gte=week_ago).count(),
            "by_category": category_counts(),
            "by_language": language_counts(),
        },
        "cycle": {"start": cycle_start.isoformat(), "end": wallet.cycle_end.isoformat() if wallet else None},
        "unlocks_this_cycle": unlocked_accesses(account_id=account_id).filter(granted_at__gte=cycle_start).count(),
        "exports_this_cycle": Export.objects.filter(team_id=account_id, created_at__gte=cycle_start).count(),
        "free_pages_left": allowances["discovery_pagination"]["free_left"],
        "free_searches_left": allowances["advanced_search"]["free_left"],
        "email_quota_left": allowances["email_unlock"]["plan_left"],
        "recent_jobs": [
            {
                "id": str(job.pk),
                "username": job.username,
                "status": job.status,
                "trigger": job.trigger,
                "created_at": job.created_at.isoformat(),
            }
            for job in jobs
        ],
    }
