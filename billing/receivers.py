"""dj-stripe signal receivers: each one records the event id once and calls one reaction.

They run inside dj-stripe's transaction for the event, after dj-stripe's own handlers have
synced the objects; an exception rolls everything back (the event included) and the
webhook answers 500, so Stripe delivers it again. dj-stripe stores each event id once and
only then runs the handlers; ``StripeEventReaction`` keeps our reactions to one per event
id also when staff reprocess a stored event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction
from django.dispatch import receiver
from djstripe import signals as djstripe_signals
from djstripe.event_handlers import djstripe_receiver
from djstripe.models import Event, WebhookEventTrigger

from billing import reactions
from billing.models import StripeEventReaction
from teams.models import Team

logger = logging.getLogger(__name__)

Reaction = Callable[[], tuple[str, Team | None]]


def event_react(event: Event, reaction: Reaction) -> bool:
    """Run ``reaction`` once per Stripe event id; False when it already ran."""
    with transaction.atomic():
        record, created = StripeEventReaction.objects.get_or_create(
            event_id=event.id, defaults={"event_type": event.type}
        )
        if not created:
            return False
        outcome, team = reaction()
        record.outcome, record.team = outcome[:255], team
        record.save(update_fields=["outcome", "team"])
    logger.info("billing: %s %s -> %s", event.type, event.id, outcome)
    return True


def _object_id(event: Event) -> str:
    return event.data["object"]["id"]


@djstripe_receiver(["checkout.session.completed", "checkout.session.async_payment_succeeded"])
def on_checkout_paid(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.topup_fulfil(session_id=_object_id(event)))


@djstripe_receiver("checkout.session.expired")
def on_checkout_expired(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.topup_expired(session_id=_object_id(event)))


@djstripe_receiver(["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"])
def on_subscription(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.subscription_changed(subscription_id=_object_id(event)))


@djstripe_receiver("invoice.paid")
def on_invoice_paid(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.invoice_paid(invoice_id=_object_id(event)))


@djstripe_receiver("invoice.payment_failed")
def on_invoice_payment_failed(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.invoice_payment_failed(invoice_id=_object_id(event)))


@djstripe_receiver("charge.refunded")
def on_charge_refunded(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.charge_refunded(charge_id=_object_id(event)))


@djstripe_receiver("charge.dispute.created")
def on_dispute_created(sender, event: Event, **kwargs) -> None:
    event_react(event, lambda: reactions.dispute_created(dispute_id=_object_id(event)))


@receiver(djstripe_signals.webhook_pre_validate, sender=WebhookEventTrigger)
def drop_debug_secret_override(sender, instance: WebhookEventTrigger, **kwargs) -> None:
    """Signatures are checked with the endpoint's own secret only.

    dj-stripe lets a request choose the secret (``X-Djstripe-Webhook-Secret``) when DEBUG is
    on; a forged event could then sign itself. The header is dropped before validation.
    """
    instance.headers = {k: v for k, v in instance.headers.items() if k.lower() != "x-djstripe-webhook-secret"}
