"""Production settings: the base settings hardened. Refuses to start half-configured."""

import copy
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, REST_FRAMEWORK, env

# Read the variables themselves: the base settings' local fallbacks (the untracked
# .secret_key file, the localhost host list) must never reach production.
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set (50+ random characters) in production.")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set in production.")

# Billing talks to the real Stripe API only: another API host (a test fake) is refused.
if env.str("STRIPE_API_HOST", default=""):
    raise ImproperlyConfigured("STRIPE_API_HOST is for tests and local fakes; it may not be set in production.")

# CORS: no origin unless configured (the base default is the local frontend), and never a
# loopback origin with credentials allowed: any page on the user's machine could call us.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
_local_origins = [
    origin
    for origin in CORS_ALLOWED_ORIGINS
    if (urlsplit(origin).hostname or "") in {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104
    or (urlsplit(origin).hostname or "").endswith(".localhost")
]
if _local_origins:
    raise ImproperlyConfigured(f"CORS_ALLOWED_ORIGINS may not name a local origin in production: {_local_origins}.")
# JSON only: the browsable API (HTML forms, a second UI over every endpoint) is a local aid.
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]}

DJANGO_ENV = "production"
DEBUG = False
# JSON log lines for the log collector, whatever DJANGO_ENV says (LOG_FORMAT=text overrides).
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = copy.deepcopy(LOGGING)
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
# Static files (admin, Swagger UI) served by the app itself from STATIC_ROOT (collectstatic
# at image build): no CDN and no extra web server. Locally runserver serves them.
MIDDLEWARE = list(MIDDLEWARE)  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "whitenoise.middleware.WhiteNoiseMiddleware"
)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The health probes are called over plain HTTP by the orchestrator inside the network.
SECURE_REDIRECT_EXEMPT = [r"^api/health", r"^metrics$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
