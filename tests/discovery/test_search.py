"""Discovery filters, sorts and keyset pages on the 45 real creators + the sample creator.

Expectations are computed by hand from the exports (follower counts, biographies, captions)
or, for the AI engine's own outputs (category, language), from the stored values by a
plain-Python reimplementation of the filter, never by the SQL under test.
"""

from __future__ import annotations

import json
import re
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from discovery.api.serializers import FiltersSerializer
from discovery.api.views import page_request
from discovery.selectors import search_page
from profiles.models import Profile
from tests.discovery.conftest import GOOPER, SAMPLE
from tests.factories import account_of, team_of

pytestmark = pytest.mark.django_db


def run(filters=None, *, sort="followers", page_size=50, cursor=None, account_id=None, kind="advanced"):
    validated = FiltersSerializer(data=filters or {})
    validated.is_valid(raise_exception=True)
    page = page_request(
        kind=kind,
        filters=dict(validated.validated_data),
        control={"sort": sort, "page_size": page_size, "cursor": cursor},
    )
    return search_page(
        filters=page.filters,
        sort_name=page.sort,
        page_size=page.page_size,
        cursor=page.cursor,
        account_id=account_id or uuid.uuid4(),
        query=page.query,
        unlock_price=25,
    )


def names(result) -> list[str]:
    return [row["username"] for row in result.results]


def all_pages(filters=None, *, sort="followers", page_size=7) -> list[str]:
    seen, cursor = [], None
    while True:
        result = run(filters, sort=sort, page_size=page_size, cursor=cursor)
        seen += names(result)
        cursor = result.next_cursor
        if cursor is None:
            return seen


def raw_creators() -> list[dict]:
    return json.loads(GOOPER.read_text()) + json.loads(SAMPLE.read_text())


def test_all_46_creators_are_browsable_sorted_by_followers(creators):
    expected = [c["username"] for c in sorted(raw_creators(), key=lambda c: -c["followersCount"])]
    result = run()
    assert result.total == 46 and result.total_is_exact
    assert names(result) == expected[:46]
    assert names(result)[:3] == ["humansofny", "marco_torosantucci", "checcozalonefanpage_"]


def test_followers_range(creators):
    result = run({"followers_min": 8000, "followers_max": 9000})
    assert set(names(result)) == {
        "kashsocialmediatips", "letiziacanclini", "officinesbiellatemilano", "sbranding_", "umpg_it",
        "kataklo_athletic_dance_theatre", "italiamusiclab", "locusta_booking",
    }  # fmt: skip
    assert names(result)[0] == "italiamusiclab" and result.total == 8


def test_has_email_and_its_negation(creators):
    with_email = {"acidgigi", "gunabooking", "inno.t_ofc", "launchermusic.it", "prodbybrail", "soul_stice_"}
    assert set(names(run({"has_email": True}))) == with_email
    assert set(names(run({"has_email": False}))) == set(creators) - with_email


def test_previews_mask_the_email_and_show_no_report(creators):
    row = next(r for r in run({"has_email": True}).results if r["username"] == "inno.t_ofc")
    assert row["email"] == "t***@gmail.com" and row["has_email"] and not row["email_revealed"]
    assert set(row) == {
        "username", "full_name", "avatar_url", "followers_count", "engagement_rate", "primary_category",
        "top_language", "is_verified", "unlocked", "unlock_price", "has_email", "email", "email_revealed",
    }  # fmt: skip
    assert row["unlocked"] is False and row["unlock_price"] == 25


def test_verified_and_business(creators):
    assert names(run({"verified": True})) == ["humansofny"]
    assert len(names(run({"verified": False}))) == 45
    # The gooper export has no isBusinessAccount: nobody is a business account.
    assert names(run({"business_account": True})) == []


def test_engagement_rate_bounds_skip_unknown_values(creators):
    # Only the sample creator has likes and comments; the 45 have none: their rate is unknown.
    assert names(run({"engagement_rate_min": 0.5})) == ["humansofny"]
    assert names(run({"engagement_rate_max": 0.5})) == []
    assert names(run({"engagement_rate_min": 0.5, "engagement_rate_max": 0.9})) == ["humansofny"]
    assert names(run({"avg_likes_min": 1})) == ["humansofny"]
    assert names(run({"posts_per_week_min": 0.1})) == ["humansofny"]
    assert names(run({"audience_quality_min": 50})) == ["humansofny"]


def test_sponsored_share_max(creators):
    shares = dict(Profile.objects.values_list("username", "sponsored_share"))
    expected = {u for u, share in shares.items() if share is not None and share <= 0.1}
    assert shares["kataklo_athletic_dance_theatre"] == 0.2  # 1 of its 5 captions reads as sponsored
    assert set(names(run({"sponsored_share_max": 0.1}))) == expected
    assert "kataklo_athletic_dance_theatre" not in expected and len(expected) == 45


def test_categories_any_of_and_languages_any_of(creators):
    stored = list(Profile.objects.values_list("username", "ai_primary_content_type", "top_language"))
    music_or_art = {u for u, cat, _ in stored if cat in ("Music", "Art")}
    assert len(music_or_art) >= 5
    assert set(names(run({"categories": ["music", "Art"]}))) == music_or_art
    italian = {u for u, _, lang in stored if lang == "it"}
    assert set(names(run({"languages": ["it"]}))) == italian
    both = {u for u, cat, lang in stored if cat == "Music" and lang in ("it", "en")}
    assert set(names(run({"categories": ["Music"], "languages": ["it", "en"]}))) == both


def test_last_post_within_days(creators):
    # Only the sample creator's posts carry dates; its latest post is 2024-10-21.
    days = (timezone.now() - Profile.objects.get(username="humansofny").last_post_at).days + 2
    assert names(run({"last_post_within_days": days})) == ["humansofny"]
    assert names(run({"last_post_within_days": days - 4})) == []


def test_growth_over_30_days(creators):
    growth = dict(Profile.objects.exclude(growth_30d=None).values_list("username", "growth_30d"))
    # (9559 - 9000) / 9000, (8255 - 8000) / 8000, (7776 - 7800) / 7800, in percent.
    assert growth == pytest.approx({"marco_torosantucci": 6.2111, "letiziacanclini": 3.1875, "realverano": -0.3077})
    assert names(run({"growth_30d_min": 3})) == ["marco_torosantucci", "letiziacanclini"]
    assert names(run(sort="growth"))[:3] == ["marco_torosantucci", "letiziacanclini", "realverano"]


def _mentions(word: str) -> set[str]:
    found = set()
    for c in raw_creators():
        text = " ".join(
            [c["username"], c.get("fullName") or "", c.get("businessCategoryName") or "", c.get("biography") or ""]
            + [p.get("caption") or "" for p in c.get("latestPosts") or []]
        )
        if re.search(rf"\b{word}\b", text, re.IGNORECASE):
            found.add(c["username"])
    return found


def test_keywords_in_biography_and_captions(creators):
    assert _mentions("spotify") == {"radiobocconi", "prodbybrail"}
    assert set(names(run({"keywords": "Spotify"}))) == {"radiobocconi", "prodbybrail"}
    assert set(names(run({"keywords": "spotify", "has_email": True}))) == {"prodbybrail"}
    assert set(names(run({"keywords": "spotify"}, sort="relevance"))) == {"radiobocconi", "prodbybrail"}


def test_hashtags_any_of(creators):
    Profile.objects.filter(username="acidgigi").update(search_hashtags=["techno", "milano"])
    Profile.objects.filter(username="vagliolise").update(search_hashtags=["djset"])
    assert set(names(run({"hashtags": ["techno", "djset"]}))) == {"acidgigi", "vagliolise"}
    assert names(run({"hashtags": ["milano"]})) == ["acidgigi"]
    assert names(run({"hashtags": ["mila"]})) == []


def test_exclude_unlocked_and_unlocked_flag(creators, user):
    from profiles.services.access import access_grant

    access_grant(team=team_of(user), profile=Profile.objects.get(username="humansofny"), granted_by=user)
    result = run(account_id=account_of(user))
    assert result.results[0]["username"] == "humansofny" and result.results[0]["unlocked"]
    assert result.results[0]["unlock_price"] == 0
    assert "humansofny" not in names(run({"exclude_unlocked": True}, account_id=account_of(user)))
    assert len(names(run({"exclude_unlocked": True}, account_id=account_of(user)))) == 45


@pytest.mark.parametrize("sort", ["engagement_rate", "avg_engagement", "quality", "recent_post"])
def test_sorts_on_figures_only_the_sample_creator_has_put_it_first_then_unknowns(creators, sort):
    order = all_pages(sort=sort, page_size=7)
    assert order[0] == "humansofny"
    assert sorted(order) == sorted(creators) and len(order) == 46
    # Unknown values follow, by id descending (the cursor's second phase).
    ids = dict(Profile.objects.values_list("username", "id"))
    rest = [ids[u] for u in order[1:]]
    assert [str(i) for i in rest] == sorted((str(i) for i in rest), reverse=True)


def test_followers_sort_pages_match_one_big_page(creators):
    assert all_pages(page_size=7) == names(run(page_size=50))


def _new_creator(username: str, followers: int, er: float | None) -> Profile:
    return Profile.objects.create(
        username=username,
        followers_count=followers,
        discoverable=True,
        engagement_rate=er,
        last_scraped_at=timezone.now(),
    )


@pytest.mark.parametrize("sort", ["followers", "engagement_rate"])
def test_cursor_pages_have_no_duplicates_or_gaps_while_rows_are_inserted(creators, sort):
    seen, cursor, inserted = [], None, 0
    while True:
        result = run(sort=sort, page_size=6, cursor=cursor)
        seen += names(result)
        # Creators arrive between pages: above, inside and below the pages already served.
        for followers, er in ((20_000_000, 5.0), (6000, None), (1000, 0.1)):
            inserted += 1
            _new_creator(f"new_{sort[:3]}_{inserted}", followers + inserted, er)
        cursor = result.next_cursor
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a creator was served twice"
    assert set(creators) <= set(seen), "a creator was skipped"
    values = dict(
        Profile.objects.values_list("username", "followers_count" if sort == "followers" else "engagement_rate")
    )
    known = [values[u] for u in seen if values[u] is not None]
    assert known == sorted(known, reverse=True)


def test_total_is_exact_up_to_the_cap_then_an_estimate(creators, settings):
    settings.DISCOVERY_TOTAL_EXACT_CAP = 10
    result = run({"followers_min": 1000}, page_size=5)
    assert result.total_is_exact is False and result.total >= 11
    settings.DISCOVERY_TOTAL_EXACT_CAP = 100
    result = run({"followers_min": 1000}, page_size=5)
    assert (result.total, result.total_is_exact) == (46, True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLITE: relevance is PostgreSQL full-text search")
def test_relevance_ranks_only_the_most_followed_candidates(creators, settings):
    both = {"radiobocconi", "prodbybrail"}
    followers = dict(Profile.objects.filter(username__in=both).values_list("username", "followers_count"))
    most_followed = max(followers, key=followers.get)
    settings.DISCOVERY_RELEVANCE_CANDIDATES = 1
    result = run({"keywords": "spotify"}, sort="relevance")
    assert names(result) == [most_followed] and result.total == 2  # the total still counts every match
    assert any("ranks the 1 most followed of 2 matches" in note for note in result.notes)
    settings.DISCOVERY_RELEVANCE_CANDIDATES = 2_000
    result = run({"keywords": "spotify"}, sort="relevance")
    assert set(names(result)) == both and not result.notes


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLITE: no statement timeout")
def test_a_slow_exact_count_gives_way_to_the_estimate(creators, settings):
    from discovery.selectors.search import count_capped

    def timeout() -> str:
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('statement_timeout')")
            return cur.fetchone()[0]

    before = timeout()
    settings.DISCOVERY_TOTAL_COUNT_MS = 50
    slow = Profile.objects.extra(where=["pg_sleep(0.2) IS NOT NULL"])
    assert count_capped(slow, 1000) is None  # cancelled after 50 ms, not 0.2 s per row
    assert timeout() == before  # the savepoint took the timeout back with it
    assert count_capped(Profile.objects.all(), 1000) == Profile.objects.count()
    assert timeout() == before  # and a count that finished puts it back
    assert Profile.objects.exists()  # the transaction is usable after the cancelled count
