"""Issue 15 #7: a Content-Security-Policy on the admin and the API docs (django-csp).

Before: no CSP header at all. The docs page must also work under it: no inline script.
"""

from __future__ import annotations

import re

import pytest


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/health"])
def test_pages_carry_a_strict_policy(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = _policy(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"] and policy["form-action"] == ["'self'"]


@pytest.mark.django_db
def test_the_docs_page_has_no_inline_script(client):
    html = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts), scripts


def test_cdn_images_are_allowed_in_the_admin():
    from tests.config.subprocess_settings import load_settings

    found = load_settings(["CONTENT_SECURITY_POLICY"], CDN_BASE_URL="https://cdn.example.com/media")
    assert "https://cdn.example.com" in found["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]["img-src"]


@pytest.mark.django_db
def test_the_docs_start_up_script_is_served_from_this_origin(client):
    html = client.get("/api/docs/").content.decode()
    src = re.findall(r'<script src="([^"]*script=[^"]*)"', html)
    assert src, html
    script = client.get(src[0].replace("&amp;", "&"))
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
