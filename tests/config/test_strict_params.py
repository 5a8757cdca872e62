"""Query parameters are read strictly: not what the schema says -> 400 naming the field, never the default."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/credits/usage/monthly?months=abc", "months"),
        ("/api/v1/credits/usage/monthly?months=0", "months"),
        ("/api/v1/credits/usage/monthly?months=25", "months"),
        ("/api/v1/credits/usage/monthly?months=2&months=3", "months"),
        ("/api/v1/credits/analytics/spending?months=1.5", "months"),
        ("/api/v1/credits/can-perform/influencer_unlock?quantity=-1", "quantity"),
        ("/api/v1/credits/can-perform/influencer_unlock?quantity=", "quantity"),
        ("/api/v1/credits/transactions?page_size=abc", "page_size"),
        ("/api/v1/credits/transactions?page_size=101", "page_size"),
        ("/api/v1/credits/transactions?page_size=5&page_size=6", "page_size"),
        ("/api/v1/credits/transactions?page=0", "page"),
        ("/api/v1/credits/transactions?page=x", "page"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(api_client, url, field):
    response = api_client.get(url)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/credits/usage/monthly",
        "/api/v1/credits/usage/monthly?months=24",
        "/api/v1/credits/analytics/spending?months=1",
        "/api/v1/credits/can-perform/influencer_unlock?quantity=3",
        "/api/v1/credits/transactions?page_size=100",
        "/api/v1/credits/transactions?page=1&page_size=1",
        "/api/v1/credits/transactions?page=last",
    ],
)
def test_good_values_are_served(api_client, url):
    assert api_client.get(url).status_code == 200


def test_the_schema_states_the_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/credits/transactions"]["get"]["parameters"]}
    assert params["page_size"]["minimum"] == 1 and params["page_size"]["maximum"] == 100
    monthly = schema["paths"]["/api/v1/credits/usage/monthly"]["get"]["parameters"]
    [months] = [p for p in monthly if p["name"] == "months"]
    assert months["schema"] == {"type": "integer", "minimum": 1, "maximum": 24, "default": 6}
