"""Thin tasks of the teams app."""

from config.tasks import app_task
from teams import services


@app_task(queue="default", name="teams.tasks.invitation_email_send")
def invitation_email_send(invitation_id: str) -> bool:
    """Email the invitation's accept link; nothing is sent for one no longer pending."""
    return services.invitation_email_deliver(invitation_id=invitation_id)


@app_task(queue="default", name="teams.tasks.invitations_expire", ignore_result=True)
def invitations_expire() -> int:
    """Mark pending invitations past their expiry as expired (daily, migration 0004)."""
    return services.invitations_expire()
