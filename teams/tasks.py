"""Thin tasks of the teams app."""

from celery import shared_task

from teams import services


@shared_task(name="teams.tasks.invitation_email_send", acks_late=True)
def invitation_email_send(invitation_id: str) -> bool:
    """Email the invitation's accept link; nothing is sent for one no longer pending."""
    return services.invitation_email_deliver(invitation_id=invitation_id)
