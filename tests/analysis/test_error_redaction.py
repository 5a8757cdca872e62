"""Job errors shown to users carry no server path (issue 15, finding 8); staff keep the whole detail."""

import pytest

from analysis import services
from analysis.models import AnalysisJob
from tests.factories import team_of

pytestmark = pytest.mark.django_db

DETAIL = (
    "FileNotFoundError: [Errno 2] No such file or directory: '/srv/app/media/profiles/x.json' "
    'File "/usr/local/lib/python3.11/site-packages/requests/api.py", line 59'
)


def test_job_error_and_events_hide_server_paths(api_client):
    job, _ = services.job_start(username="somebody", requested_by=api_client.user, team=team_of(api_client.user))
    services.job_fail(job_id=job.pk, stage="scrape", category="provider", detail=DETAIL)
    body = api_client.get(f"/api/v1/analysis/jobs/{job.pk}").json()
    assert body["error"]["category"] == "provider"
    assert "/srv/app" not in str(body) and "site-packages" not in str(body)
    assert "FileNotFoundError" in body["error"]["detail"] and "[path]" in body["error"]["detail"]
    events = [e.data for e in job.events.all()]
    assert events
    assert all("/srv/app" not in str(data) for data in events)
    assert AnalysisJob.objects.get(pk=job.pk).error_detail == DETAIL  # the admin's copy is whole
