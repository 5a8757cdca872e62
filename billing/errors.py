"""Domain errors of the billing app (rendered by ``config.api.exceptions``)."""

from config.errors import Conflict, PermissionDenied, ServiceUnavailable, ValidationFailed


class BillingNotConfigured(ServiceUnavailable):
    """No Stripe secret key for the active mode: billing is off (503)."""

    default_code = "billing_not_configured"


class StripeUnavailable(ServiceUnavailable):
    """Stripe did not answer or refused the request for a reason of its own (503)."""

    default_code = "stripe_unavailable"


class CatalogMissing(ServiceUnavailable):
    """The Stripe price for a plan or package is not there (run ``billing_sync_catalog``)."""

    default_code = "billing_catalog_missing"


class BillingForbidden(PermissionDenied):
    default_code = "billing_owner_only"


class SubscriptionExists(Conflict):
    default_code = "subscription_exists"


class NoSubscription(Conflict):
    default_code = "no_subscription"


class SeatsExceedPlan(Conflict):
    """A downgrade to a plan with fewer seats than the team's members and pending invitations."""

    default_code = "seats_exceed_plan"


class InvalidChange(ValidationFailed):
    default_code = "invalid_subscription_change"
