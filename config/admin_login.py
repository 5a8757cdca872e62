"""The admin login form behind the same throttle as the API's login (it had none)."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from accounts.api.throttles import AdminLoginRateThrottle


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    if request.method == "POST":
        throttle = AdminLoginRateThrottle()
        if not throttle.allow_request(request, None):
            wait = int(throttle.wait() or 60)
            response = HttpResponse(
                f"Too many login attempts. Try again in {wait} seconds.", status=429, content_type="text/plain"
            )
            response["Retry-After"] = str(wait)
            return response
    return admin.site.login(request, extra_context)
