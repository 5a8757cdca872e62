"""The discovery API: credit rules through the gate, input errors, categories, dashboard,
pricing, unlocks (the creator API's) and contact emails, on the real creators."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from credits.models import CreditTransaction, Wallet
from credits.services import credits_spend, wallet_set_plan
from profiles.models import ContactEmailReveal, Profile, TeamProfileAccess
from teams.models import Membership
from teams.services import memberships_invalidate
from tests.factories import UserFactory, account_of, team_of

pytestmark = pytest.mark.django_db
BROWSE = "/api/v1/discovery/browse"
SEARCH = "/api/v1/discovery/search-advanced"


def balance(user) -> int:
    return Wallet.objects.get(account_id=account_of(user)).balance


def spends(user, action: str) -> list[CreditTransaction]:
    return list(
        CreditTransaction.objects.filter(
            wallet__account_id=account_of(user), kind="spend", action_type=action
        ).order_by("id")
    )


def browse(client, **params):
    return client.get(BROWSE, params)


def walk(client, n_pages: int, **params) -> list:
    """Ask for pages 1..n of one browse query (following next_cursor); the responses."""
    responses, cursor = [], None
    for _ in range(n_pages):
        r = browse(client, **params, **({"cursor": cursor} if cursor else {}))
        responses.append(r)
        if r.status_code != 200:
            break
        cursor = r.json()["next_cursor"]
    return responses


# --- browse pages: 5 free a month, then discovery_pagination (10 credits) ----------------------


def test_five_free_pages_then_ten_credits_each(api_client, user, creators, fund):
    fund(user, 25)
    responses = walk(api_client, 7, page_size=5)
    assert [r.status_code for r in responses] == [200] * 7
    charged = [r.json()["credits"]["charged"] for r in responses]
    assert charged == [0, 0, 0, 0, 0, 10, 10]
    assert [r.json()["credits"]["buckets"] for r in responses][4:6] == [["free"], ["credits"]]
    assert [r.json()["page"] for r in responses] == [1, 2, 3, 4, 5, 6, 7]
    assert balance(user) == 5
    assert len(spends(user, "discovery_pagination")) == 7


def test_the_same_page_again_within_24_hours_is_free(api_client, user, creators, fund):
    fund(user, 10)
    walk(api_client, 5, page_size=5)  # the free pages
    sixth = walk(api_client, 6, page_size=5)[-1]
    assert sixth.json()["credits"]["charged"] == 10 and balance(user) == 0
    again = walk(api_client, 6, page_size=5)  # pages 1..6 again: all served before
    assert [r.status_code for r in again] == [200] * 6
    assert all(r.json()["credits"]["skipped"] and r.json()["credits"]["charged"] == 0 for r in again)
    assert again[-1].json()["results"] == sixth.json()["results"]
    assert len(spends(user, "discovery_pagination")) == 6


def test_the_repeat_window_ends_after_24_hours(api_client, user, creators, fund, settings):
    fund(user, 10)
    walk(api_client, 5, page_size=5)
    settings.DISCOVERY_REPEAT_FREE_HOURS = 0  # every earlier serve is outside the window
    r = browse(api_client, page_size=5)
    assert r.status_code == 200 and r.json()["credits"]["charged"] == 10


def test_402_when_out_of_credits_says_what_it_would_cost(api_client, user, creators):
    walk(api_client, 5, page_size=5)
    r = walk(api_client, 6, page_size=5)[-1]
    assert r.status_code == 402
    body = r.json()["error"]
    assert body["code"] == "insufficient_credits"
    assert body["details"] == {
        "action_type": "discovery_pagination",
        "quantity": 1,
        "price": 10,
        "balance": 0,
        "missing": 10,
    }
    assert len(spends(user, "discovery_pagination")) == 5


def test_another_query_is_another_page(api_client, user, creators, fund):
    fund(user, 100)
    for followers_min in range(1000, 7000, 1000):
        r = browse(api_client, followers_min=followers_min)
        assert r.status_code == 200
    assert [t.amount for t in spends(user, "discovery_pagination")] == [0, 0, 0, 0, 0, -10]


# --- advanced search: 10 free a month, then advanced_search (15 credits) -----------------------


def test_ten_free_advanced_searches_then_fifteen_each(api_client, user, creators, fund):
    fund(user, 30)
    charged = []
    for followers_min in range(1000, 13_000, 1000):
        r = api_client.post(SEARCH, {"filters": {"followers_min": followers_min}}, format="json")
        assert r.status_code == 200, r.json()
        charged.append(r.json()["credits"]["charged"])
    assert charged == [0] * 10 + [15, 15]
    assert balance(user) == 0
    r = api_client.post(SEARCH, {"filters": {"keywords": "spotify"}}, format="json")
    assert r.status_code == 402 and r.json()["error"]["details"]["price"] == 15
    # The same search again within 24 hours is free, even with no credits left.
    r = api_client.post(SEARCH, {"filters": {"followers_min": 12_000}}, format="json")
    assert r.status_code == 200 and r.json()["credits"]["skipped"] is True


def test_advanced_search_with_keywords_and_its_next_page(api_client, user, creators):
    r = api_client.post(SEARCH, {"filters": {"categories": [], "keywords": "spotify"}, "page_size": 1}, format="json")
    assert r.status_code == 200
    body = r.json()
    assert body["sort"] == "relevance" and body["total"] == 2 and body["total_is_exact"]
    r2 = api_client.post(
        SEARCH, {"filters": {"keywords": "spotify"}, "page_size": 1, "cursor": body["next_cursor"]}, format="json"
    )
    assert r2.status_code == 200
    got = {body["results"][0]["username"], r2.json()["results"][0]["username"]}
    assert got == {"radiobocconi", "prodbybrail"} and r2.json()["next_cursor"] is None
    assert [
        t.action_type for t in CreditTransaction.objects.filter(wallet__account_id=account_of(user), kind="spend")
    ] == [
        "discovery_pagination",
        "advanced_search",
    ]


# --- input errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"followers_min": 10, "followers_max": 5}, "followers_min"),
        ({"categories": "Music,Knitting"}, "categories"),
        ({"sort": "likes"}, "sort"),
        ({"page_size": 51}, "page_size"),
        ({"keywords": "x"}, "keywords"),  # an advanced filter
        ({"engagement_rate_min": "high"}, "engagement_rate_min"),
        ({"cursor": "garbage"}, "cursor"),
    ],
)
def test_browse_input_errors_name_the_field(api_client, creators, params, field):
    r = browse(api_client, **params)
    assert r.status_code == 400
    assert field in r.json()["error"]["details"], r.json()
    assert not CreditTransaction.objects.exists()


def test_a_cursor_of_another_query_is_refused(api_client, creators):
    cursor = browse(api_client, page_size=5).json()["next_cursor"]
    r = browse(api_client, page_size=5, cursor=cursor, verified="true")
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"filters": {"colour": "red"}}, "filters"),
        ({"filters": {"engagement_rate_min": 5, "engagement_rate_max": 1}}, "filters"),
        ({"filters": {}, "sort": "relevance"}, "sort"),
        ({"filters": {}, "limit": 3}, "limit"),
    ],
)
def test_advanced_input_errors_name_the_field(api_client, creators, body, field):
    r = api_client.post(SEARCH, body, format="json")
    assert r.status_code == 400 and field in r.json()["error"]["details"], r.json()


def test_discovery_needs_authentication(anon_client, creators):
    assert anon_client.get(BROWSE).status_code == 401


# --- categories, dashboard, pricing -----------------------------------------------------------


def test_categories_count_every_category(api_client, creators):
    r = api_client.get("/api/v1/discovery/categories")
    assert r.status_code == 200
    counts = {c["name"]: c["creators"] for c in r.json()}
    assert list(counts) == list(settings.AI_CATEGORIES)
    for name in counts:
        assert counts[name] == Profile.objects.filter(discoverable=True, ai_primary_content_type=name).count()
    assert sum(counts.values()) == 46


def test_dashboard(api_client, user, creators, fund):
    fund(user, 25)
    api_client.post("/api/v1/discovery/unlock-profile", {"username": "humansofny"}, format="json")
    browse(api_client)
    r = api_client.get("/api/v1/discovery/dashboard")
    assert r.status_code == 200
    body = r.json()
    assert body["creators"]["total"] == 46 and body["creators"]["new_this_week"] == 46
    assert sum(c["creators"] for c in body["creators"]["by_category"]) == 46
    assert body["unlocks_this_cycle"] == 1 and body["exports_this_cycle"] == 0
    assert (body["free_pages_left"], body["free_searches_left"], body["email_quota_left"]) == (4, 10, 0)


def test_pricing(api_client, user, creators):
    wallet_set_plan(account_id=account_of(user), plan_code="standard")
    rows = {row["action_type"]: row for row in api_client.get("/api/v1/discovery/pricing").json()}
    assert (rows["discovery_pagination"]["credits_per_unit"], rows["discovery_pagination"]["free_left"]) == (10, 5)
    assert (rows["advanced_search"]["credits_per_unit"], rows["advanced_search"]["free_left"]) == (15, 10)
    assert (rows["email_unlock"]["credits_per_unit"], rows["email_unlock"]["plan_left"]) == (1, 250)
    assert rows["influencer_unlock"]["credits_per_unit"] == 25


# --- unlocks: the creator API's own ----------------------------------------------------------


def test_unlock_profile_is_the_creator_unlock(api_client, user, creators, fund):
    fund(user, 25)
    wallet_set_plan(account_id=account_of(user), plan_code="free")
    for i in range(5):  # the Free plan's 5 unlocks a month
        credits_spend(
            account_id=account_of(user),
            actor=user,
            action_type="influencer_unlock",
            reference=f"q{i}",
            idempotency_key=f"q{i}",
        )
    r = api_client.post("/api/v1/discovery/unlock-profile", {"username": "@HumansOfNY"}, format="json")
    # 202: the creator API's answer for a creator whose media are not stored yet (a job starts).
    assert r.status_code == 202, r.json()
    assert r.json()["job"]["username"] == "humansofny"
    assert r.json()["credits"]["charged"] == 25 and r.json()["locked"] is False
    assert TeamProfileAccess.objects.filter(team=team_of(user), profile__username="humansofny").exists()
    again = api_client.post("/api/v1/discovery/unlock-profile", {"username": "humansofny"}, format="json")
    assert again.json()["credits"] == {"charged": 0, "buckets": [], "balance": 0, "replayed": False, "skipped": True}
    listed = api_client.get("/api/v1/discovery/unlocked-profiles").json()
    assert [row["username"] for row in listed["results"]] == ["humansofny"]
    page = browse(api_client).json()["results"]
    assert page[0]["username"] == "humansofny" and page[0]["unlocked"] and page[0]["unlock_price"] == 0


def test_unlock_profile_needs_a_username(api_client, creators):
    r = api_client.post("/api/v1/discovery/unlock-profile", {}, format="json")
    assert r.status_code == 400 and "username" in r.json()["error"]["details"]


# --- contact emails ----------------------------------------------------------------------------


def email_unlock(client, username: str):
    return client.post(f"/api/v1/discovery/creators/{username}/email/unlock")


def test_email_unlock_uses_the_plan_quota_then_one_credit(api_client, user, creators, fund):
    wallet_set_plan(account_id=account_of(user), plan_code="standard")
    credits_spend(
        account_id=account_of(user),
        actor=user,
        action_type="email_unlock",
        quantity=249,
        reference="x",
        idempotency_key="e",
    )
    fund(user, 1)
    r = email_unlock(api_client, "inno.t_ofc")
    assert r.status_code == 200, r.json()
    assert r.json()["email"] == "tedescoinno@gmail.com" and r.json()["source"] == "biography"
    assert r.json()["credits"]["buckets"] == ["plan_quota"] and r.json()["credits"]["charged"] == 0
    r = email_unlock(api_client, "gunabooking")
    assert r.json()["credits"]["buckets"] == ["credits"] and r.json()["credits"]["charged"] == 1
    assert balance(user) == 0
    r = email_unlock(api_client, "prodbybrail")
    assert r.status_code == 402 and r.json()["error"]["details"]["price"] == 1
    # Revealing again costs nothing, and previews now show the address in full.
    r = email_unlock(api_client, "inno.t_ofc")
    assert r.status_code == 200 and r.json()["credits"]["skipped"] is True
    rows = {row["username"]: row for row in browse(api_client, has_email="true").json()["results"]}
    assert rows["inno.t_ofc"]["email"] == "tedescoinno@gmail.com" and rows["inno.t_ofc"]["email_revealed"]
    assert rows["prodbybrail"]["email"] == "d***@brailmusic.com"


def test_no_email_is_404_and_no_charge(api_client, user, creators, fund):
    fund(user, 5)
    r = email_unlock(api_client, "humansofny")
    assert r.status_code == 404 and r.json()["error"]["code"] == "no_contact_email"
    assert email_unlock(api_client, "nobody_here").status_code == 404
    assert balance(user) == 5 and not spends(user, "email_unlock")
    assert not ContactEmailReveal.objects.exists()


def test_a_reveal_belongs_to_its_account(api_client, other_client, user, other_user, creators, fund):
    fund(user, 1)
    assert email_unlock(api_client, "acidgigi").status_code == 200
    row = next(r for r in browse(other_client, has_email="true").json()["results"] if r["username"] == "acidgigi")
    assert row["email"] == "i***@burrostudioradio.com" and not row["email_revealed"]


def test_the_teams_other_member_sees_the_revealed_email_at_no_cost(api_client, user, creators, fund):
    team = team_of(user)
    teammate = UserFactory()
    Membership.objects.create(team=team, user=teammate, role=Membership.Role.MEMBER)
    memberships_invalidate(teammate.pk)
    client = APIClient()
    client.force_authenticate(teammate)
    header = {"HTTP_X_TEAM_ID": str(team.pk)}
    fund(user, 1)
    assert email_unlock(api_client, "soul_stice_").json()["credits"]["charged"] == 1
    r = client.post("/api/v1/discovery/creators/soul_stice_/email/unlock", **header)
    assert r.status_code == 200 and r.json()["email"] == "soul.stice@outlook.it"
    assert r.json()["credits"]["skipped"] is True and r.json()["credits"]["charged"] == 0
    rows = {row["username"]: row for row in client.get(BROWSE, {"has_email": "true"}, **header).json()["results"]}
    assert rows["soul_stice_"]["email"] == "soul.stice@outlook.it" and rows["soul_stice_"]["email_revealed"]
    # In the teammate's own personal team, the address stays masked.
    own = {row["username"]: row for row in client.get(BROWSE, {"has_email": "true"}).json()["results"]}
    assert own["soul_stice_"]["email"] == "s***@outlook.it"
    assert balance(user) == 0 and len(spends(user, "email_unlock")) == 1


# --- input the fuzzer found (each was a 500, or charged an unfiltered search) -----------------


@pytest.mark.parametrize("bound", ["followers_min", "followers_max"])
def test_a_follower_bound_beyond_64_bits_is_a_field_error(api_client, user, creators, fund, bound):
    fund(user, 100)
    huge = 2**63
    responses = [
        browse(api_client, **{bound: huge}),
        api_client.post(SEARCH, {"filters": {bound: huge}}, format="json"),
        api_client.get("/api/v1/discovery/lookalikes/humansofny", {bound: str(10**20)}),
    ]
    for response in responses:
        assert response.status_code == 400, response.content[:300]
        assert bound in str(response.json()["error"]["details"])
    assert balance(user) == 100 and not spends(user, "advanced_search")


def test_a_filter_that_can_match_nothing_estimates_and_scores_nothing(creators):
    """Django raises EmptyResultSet instead of building SQL for it; the hand-built queries cope."""
    import numpy as np

    from analysis.models import ProfileEmbedding
    from analysis.selectors import _scored_bytes
    from discovery.selectors.search import _estimate

    assert _estimate(Profile.objects.filter(pk__in=[])) == 0
    _ids, scores = _scored_bytes(ProfileEmbedding.objects.filter(pk__in=[]), np.zeros(384, dtype=np.float32))
    assert len(scores) == 0


def test_a_form_encoded_search_is_refused_and_not_charged(api_client, user, creators, fund):
    fund(user, 100)
    response = api_client.post(
        SEARCH, "filters=%7B%22followers_min%22%3A1000000%7D", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415, response.content[:300]
    assert set(response.json()) == {"error"}
    assert balance(user) == 100 and not spends(user, "advanced_search")
