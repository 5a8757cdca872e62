"""Transactional emails of the accounts app, rendered from ``templates/accounts/email/``.

Each email has a ``<name>_subject.txt``, a ``<name>.txt`` body and a ``<name>.html``
alternative; other apps name theirs with their folder (``teams/email/invitation``). A
mail server that is down must not fail the request that triggered the email (the user
can ask again), so delivery errors are logged, not raised.
"""

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def email_send(*, template: str, to: str, context: dict[str, Any]) -> bool:
    """Render and send one email; return whether the backend accepted it."""
    context = {"product_name": "Creator Analytics", "frontend_url": settings.FRONTEND_URL, **context}
    path = template if "/" in template else f"accounts/email/{template}"
    subject = " ".join(render_to_string(f"{path}_subject.txt", context).split())
    text = render_to_string(f"{path}.txt", context)
    html = render_to_string(f"{path}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to])
    message.attach_alternative(html, "text/html")
    try:
        return message.send() == 1
    except (smtplib.SMTPException, OSError):
        logger.exception("Could not send the %r email", template)
        return False
