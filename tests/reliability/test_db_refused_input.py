"""Issue 15 #4 (found by the schema fuzzer): input PostgreSQL refuses answers 400, never 500.

Before: ``GET /credits/transactions?date_to=0289-06-12T18:33:22.417-16:58`` (a valid ISO date
with an offset PostgreSQL cannot represent) raised DataError -> 500. Control characters in
JSON fields and search terms: NUL is refused at the edge (400); the other control
characters are stored and read back as sent.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor == "sqlite", reason="SQLITE: the refusals are PostgreSQL's"),
]


def test_an_offset_postgresql_cannot_represent_is_a_400(api_client):
    response = api_client.get("/api/v1/credits/transactions", {"date_to": "0289-06-12T18:33:22.417-16:58"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"


def test_control_characters_in_json_fields_are_kept_and_nul_is_refused(api_client):
    text = "".join(chr(c) for c in range(1, 32)) + "\u007f\u2028"
    ok = api_client.patch("/api/v1/auth/me", {"full_name": "x", "preferences": {"note": text}}, format="json")
    assert ok.status_code == 200, ok.content
    assert api_client.get("/api/v1/auth/me").json()["preferences"]["note"] == text
    nul = api_client.patch("/api/v1/auth/me", {"preferences": {"note": "a\u0000b"}}, format="json")
    assert nul.status_code == 400 and nul.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("term", ["a\u0001b", "\u001f", "a%01b"])
def test_control_characters_in_search_terms_are_4xx_not_500(api_client, term):
    response = api_client.get(f"/api/v1/search/creator/{term}")
    assert 400 <= response.status_code < 500 and "error" in response.json()
    listing = api_client.get("/api/v1/credits/transactions/search", {"q": term})
    assert listing.status_code < 500
