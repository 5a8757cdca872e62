"""URL routes: the versioned API, health probes, metrics, schema, docs and the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import admin_login, health, metrics
from teams.api.views import TeamListCreateView

admin.site.site_header = "Creator Analytics — staff admin"
admin.site.site_title = "Creator Analytics admin"
admin.site.index_title = "Operations"

_team_list = TeamListCreateView.as_view()


@csrf_exempt  # as the DRF view it calls (token requests carry no CSRF cookie; sessions are checked by DRF)
def _team_list_without_slash(request, *args, **kwargs):
    """``/api/v1/teams`` as ``/api/v1/teams/`` (every other route has no trailing slash).

    Django's APPEND_SLASH would answer a POST without the slash with a redirect that clients
    follow as a GET: "create a team" would list the teams and create nothing. A plain function,
    so the schema documents the route once.
    """
    return _team_list(request, *args, **kwargs)


api_v1 = [
    path("teams", _team_list_without_slash, name="teams-list-no-slash"),
    path("auth/", include("accounts.api.urls")),
    path("", include("profiles.api.urls")),
    path("analysis/", include("analysis.api.urls")),
    path("credits/", include("credits.api.urls")),
    path("discovery/", include("discovery.api.urls")),
    path("billing/", include("billing.api.urls")),
    path("teams/", include("teams.api.urls")),
]

# Errors outside DRF views (malformed request, unknown URL, unhandled exception) keep the API's error format.
handler400 = "config.api.exceptions.handler400"
handler403 = "config.api.exceptions.handler403"
handler404 = "config.api.exceptions.handler404"
handler500 = "config.api.exceptions.handler500"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("api/health", health.health, name="health"),
    path("api/health/live", health.live, name="health-live"),
    path("api/health/ready", health.ready, name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # The one Stripe webhook endpoint: stripe/webhook/<uuid>/ (dj-stripe, signature verified).
    path("stripe/", include("djstripe.urls", namespace="djstripe")),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
    path("admin/login/", admin_login.admin_login, name="admin-login-throttled"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
