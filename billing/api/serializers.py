"""Billing API serializers: inputs of the actions and the shapes they answer with."""

from rest_framework import serializers

from accounts.api.serializers import ErrorSerializer  # noqa: F401  (re-exported for the schema)
from billing.models import BillingAccount


class CatalogPlanSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    monthly_price_cents = serializers.IntegerField()
    annual_price_cents = serializers.IntegerField()
    seats = serializers.IntegerField()
    quotas = serializers.DictField(child=serializers.IntegerField())
    topup_discount_percent = serializers.IntegerField()
    lookup_keys = serializers.DictField(child=serializers.CharField())
    current = serializers.BooleanField()


class CatalogPackageSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    list_price_cents = serializers.IntegerField()
    price_cents = serializers.IntegerField(help_text="What this team pays (its plan's top-up discount applied).")
    lookup_key = serializers.CharField()


class CatalogSerializer(serializers.Serializer):
    current_plan = serializers.CharField()
    plans = CatalogPlanSerializer(many=True)
    packages = CatalogPackageSerializer(many=True)


class SubscriptionCheckoutInputSerializer(serializers.Serializer):
    plan = serializers.ChoiceField(choices=["standard", "premium"])
    interval = serializers.ChoiceField(choices=BillingAccount.Interval.choices, default="month")


class TopUpCheckoutInputSerializer(serializers.Serializer):
    package = serializers.SlugField(max_length=32)


class CheckoutSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The Checkout Session id.")
    url = serializers.URLField(help_text="Send the browser here.")
    amount_cents = serializers.IntegerField(required=False)


class PortalSerializer(serializers.Serializer):
    url = serializers.URLField()


class PendingChangeSerializer(serializers.Serializer):
    plan = serializers.CharField()
    interval = serializers.CharField()
    effective_at = serializers.DateTimeField(allow_null=True)


class SubscriptionSerializer(serializers.Serializer):
    plan = serializers.CharField()
    interval = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    current_period_start = serializers.DateTimeField(allow_null=True)
    current_period_end = serializers.DateTimeField(allow_null=True)
    cancel_at_period_end = serializers.BooleanField()
    pending_change = PendingChangeSerializer(allow_null=True)


class SubscriptionChangeInputSerializer(SubscriptionCheckoutInputSerializer):
    interval = serializers.ChoiceField(choices=BillingAccount.Interval.choices)


class InvoiceSerializer(serializers.Serializer):
    id = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    status = serializers.CharField(allow_blank=True)
    amount_due_cents = serializers.IntegerField()
    amount_paid_cents = serializers.IntegerField()
    currency = serializers.CharField()
    created = serializers.DateTimeField(allow_null=True)
    hosted_invoice_url = serializers.CharField(allow_blank=True)
    invoice_pdf = serializers.CharField(allow_blank=True)
