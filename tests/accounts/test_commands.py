"""create_staff_login: a random password, printed once, that really logs in."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import User

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[str, str]:
    out = StringIO()
    call_command("create_staff_login", *args, stdout=out)
    text = out.getvalue()
    email = re.search(r"Email:\s+(\S+)", text).group(1)
    password = re.search(r"Password:\s+(\S+)", text).group(1)
    assert "http://127.0.0.1:8000/admin/" in text and "http://127.0.0.1:8000/api/docs/" in text
    assert text.count(password) == 1
    return email, password


def test_prints_a_random_password_that_logs_in(client):
    email, password = _run()
    assert email == "admin@localhost.localdomain"
    assert len(password) >= 20
    assert client.login(email=email, password=password)
    assert client.get("/admin/").status_code == 200
    response = APIClient().post("/api/v1/auth/login", {"email": email, "password": password})
    assert response.status_code == 200 and response.json()["user"]["is_staff"] is True


def test_two_runs_give_different_passwords_and_one_account():
    _, first = _run("--email", "ops@example.com")
    _, second = _run("--email", "ops@example.com")
    assert first != second
    user = User.objects.get(email="ops@example.com")
    assert User.objects.count() == 1
    assert user.is_superuser and user.check_password(second) and not user.check_password(first)
