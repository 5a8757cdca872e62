"""OpenAPI: the cached JWT authentication is documented as simplejwt's bearer scheme."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class CachedJWTScheme(SimpleJWTScheme):
    target_class = "accounts.auth_cache.CachedJWTAuthentication"
