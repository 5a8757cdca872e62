"""Tasks of the accounts app (queue ``default``): emails leave the request."""

from typing import Any

from accounts.emails import email_send
from config.tasks import app_task


@app_task(queue="default")
def email_send_task(*, to: str, template: str, context: dict[str, Any]) -> bool:
    """Render and send one transactional email (``accounts.emails``); queued by ``email_queue``.

    A delivery error is logged, not retried: the user can ask for the email again.
    """
    return email_send(template=template, to=to, context=context)
