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


@app_task(queue="default")
def cache_deletes_replay() -> int:
    """Replay the cache deletes that could not reach Redis (``config.cache.pending_deletes_replay``), every minute.

    While Redis is still down the task fails and the deletes wait for the next run.
    """
    from config.cache import pending_deletes_replay

    return pending_deletes_replay()
