"""URL routes: the versioned API, health probes, metrics, schema, docs and the admin."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import admin_login, health, metrics

admin.site.site_header = "Creator Analytics — staff admin"
admin.site.site_title = "Creator Analytics admin"
admin.site.index_title = "Operations"

api_v1 = [
    path("auth/", include("accounts.api.urls")),
    path("", include("profiles.api.urls")),
    path("analysis/", include("analysis.api.urls")),
    path("credits/", include("credits.api.urls")),
    path("discovery/", include("discovery.api.urls")),
    path("billing/", include("billing.api.urls")),
    path("teams/", include("teams.api.urls")),
]

# Errors outside DRF views (unknown URL, unhandled exception) keep the API's error format.
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
