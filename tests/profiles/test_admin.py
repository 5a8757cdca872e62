"""The ProviderCall admin: list, filters and the cost per day and per creator."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from profiles.models import ProviderCall

pytestmark = pytest.mark.django_db


def _call(username: str, day: int, cost: str, status: str = "ok") -> None:
    call = ProviderCall.objects.create(provider="apify", username=username, status=status, cost_cents=Decimal(cost))
    ProviderCall.objects.filter(pk=call.pk).update(created_at=datetime(2024, 11, day, 10, tzinfo=UTC))


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_changelist_shows_cost_per_day_and_creator(admin_client):
    _call("humansofny", 1, "0.26")
    _call("humansofny", 1, "0.26", status="transient")
    _call("nasa", 2, "0.26")
    response = admin_client.get(reverse("admin:profiles_providercall_changelist"))
    assert response.status_code == 200
    per_day = {
        row["day"].isoformat(): (row["calls"], row["errors"], row["cost"]) for row in response.context["cost_per_day"]
    }
    assert per_day == {"2024-11-01": (2, 1, Decimal("0.52")), "2024-11-02": (1, 0, Decimal("0.26"))}
    per_creator = [(row["username"], row["calls"], row["cost"]) for row in response.context["cost_per_creator"]]
    assert per_creator == [("humansofny", 2, Decimal("0.52")), ("nasa", 1, Decimal("0.26"))]
    html = response.content.decode()
    assert "Cost per day" in html and "Cost per creator" in html and "@humansofny" in html


def test_summary_follows_the_filters(admin_client):
    _call("humansofny", 1, "0.26")
    _call("nasa", 2, "0.26", status="not_found")
    url = reverse("admin:profiles_providercall_changelist")
    response = admin_client.get(url, {"status__exact": "not_found"})
    assert [row["username"] for row in response.context["cost_per_creator"]] == ["nasa"]
    response = admin_client.get(url, {"created_at__year": "2024", "created_at__month": "11", "created_at__day": "1"})
    assert response.status_code == 200
    assert response.context["cost_total"]["calls"] == 1


def test_rows_are_read_only(admin_client):
    _call("humansofny", 1, "0.26")
    call = ProviderCall.objects.get()
    assert admin_client.get(reverse("admin:profiles_providercall_add")).status_code == 403
    response = admin_client.post(reverse("admin:profiles_providercall_change", args=[call.pk]), {"username": "x"})
    assert response.status_code == 403
    call.refresh_from_db()
    assert call.username == "humansofny"
