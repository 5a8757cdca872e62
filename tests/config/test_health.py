import pytest


@pytest.mark.django_db
def test_health_reports_every_check(anon_client):
    response = anon_client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker", "storage"}
    assert response["X-Request-ID"]
