"""Lookalikes in discovery: ``GET lookalikes/{username}`` and ``lookalike_of`` in the advanced
search, through the embeddings' selector (``analysis.selectors.profile_lookalikes``), combined
with the filters and charged as an advanced search. The 46 real creators are embedded with
the real embedding model (skipped where it is not installed)."""

from __future__ import annotations

import pytest

from analysis.selectors import profile_lookalikes
from analysis.services import embeddings_compute, embeddings_save
from credits.models import CreditTransaction
from profiles.models import Profile
from tests.factories import account_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded(creators, embedder):
    profiles = list(Profile.objects.filter(username__in=creators))
    for vectors in embeddings_compute(profiles=profiles, embedder=embedder).values():
        embeddings_save(vectors=vectors)
    return profiles


def test_lookalikes_rank_the_filtered_creators_by_similarity(api_client, user, embedded):
    source = Profile.objects.get(username="radiobocconi")
    r = api_client.get("/api/v1/discovery/lookalikes/radiobocconi", {"languages": "it", "page_size": 5})
    assert r.status_code == 200, r.json()
    body = r.json()
    expected = profile_lookalikes(
        profile=source, candidates=Profile.objects.filter(discoverable=True, top_language="it"), limit=5
    )
    assert [row["username"] for row in body["results"]] == [p.username for p, _ in expected]
    assert len(body["results"]) == 5 and "radiobocconi" not in [row["username"] for row in body["results"]]
    scores = [row["similarity"] for row in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert all(row["top_language"] == "it" for row in body["results"])
    assert body["credits"]["buckets"] == ["free"]
    spend = CreditTransaction.objects.get(wallet__account_id=account_of(user), kind="spend")
    assert spend.action_type == "advanced_search"


def test_lookalike_of_in_the_advanced_search(api_client, embedded):
    body = {"lookalike_of": "prodbybrail", "filters": {"has_email": True}, "page_size": 10}
    r = api_client.post("/api/v1/discovery/search-advanced", body, format="json")
    assert r.status_code == 200, r.json()
    names = [row["username"] for row in r.json()["results"]]
    with_email = {"acidgigi", "gunabooking", "inno.t_ofc", "launchermusic.it", "soul_stice_"}
    assert set(names) == with_email and r.json()["sort"] == "similarity"


def test_no_embedding_is_404_and_no_charge(api_client, user, creators):
    r = api_client.get("/api/v1/discovery/lookalikes/radiobocconi")
    assert r.status_code == 404 and r.json()["error"]["code"] == "lookalikes_unavailable"
    assert api_client.get("/api/v1/discovery/lookalikes/nobody_known").status_code == 404
    assert not CreditTransaction.objects.filter(wallet__account_id=account_of(user)).exists()
