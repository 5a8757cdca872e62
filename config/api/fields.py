"""Input fields stricter than DRF's defaults, shared by the apps' input serializers."""

from __future__ import annotations

from typing import Any

from django.core.validators import EmailValidator
from rest_framework import serializers


class StrictCharField(serializers.CharField):
    """A text input that must be a JSON string: DRF's CharField turns ``0`` into ``"0"``."""

    default_error_messages = {"invalid": "Not a valid string: send text in quotes."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class DeliverableEmailField(serializers.EmailField):
    """An address mail can reach: Django's validator also accepts ``name@localhost``."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # EmailField appended Django's EmailValidator (allowlist ["localhost"]): replace it.
        self.validators = [v for v in self.validators if not isinstance(v, EmailValidator)]
        self.validators.append(EmailValidator(message=self.error_messages["invalid"], allowlist=()))
