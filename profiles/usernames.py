"""Usernames from user input: normalised and validated (pure, used by selectors and services)."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

from config.errors import ValidationFailed
from profiles.models import normalize_username, username_validator

_PROFILE_URL = re.compile(r"^(?:https?://)?(?:www\.)?instagram\.com/([^/?#]+)", re.IGNORECASE)


def username_clean(value: Any) -> str:
    """A normalised, valid username from user input (``@Name``, ``instagram.com/name/``)."""
    raw = str(value or "").strip()
    match = _PROFILE_URL.match(raw)
    username = normalize_username(match.group(1) if match else raw)
    try:
        username_validator(username)
    except ValidationError as exc:
        message = exc.messages[0]
        raise ValidationFailed(message, code="invalid_username", details={"username": [message]}) from exc
    return username
