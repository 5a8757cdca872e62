"""Credits API serializers: read-only outputs and the few inputs (no balance is writable)."""

from rest_framework import serializers

from credits.models import CreditTransaction, Plan, PricingRule, TopUpPackage

BUCKET_CHOICES = ["free", "plan_quota", "credits"]


class PlanSerializer(serializers.ModelSerializer):
    quotas = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Plan
        fields = [
            "code",
            "name",
            "monthly_price_cents",
            "annual_price_cents",
            "seats",
            "quotas",
            "topup_discount_percent",
        ]
        read_only_fields = fields


class PricingRuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = PricingRule
        fields = ["action_type", "credits_per_unit", "free_uses_per_month", "description"]
        read_only_fields = fields


class TopUpPackageSerializer(serializers.ModelSerializer):
    your_price_cents = serializers.SerializerMethodField()

    class Meta:
        model = TopUpPackage
        fields = ["code", "name", "credits", "price_cents", "your_price_cents"]
        read_only_fields = fields

    def get_your_price_cents(self, obj: TopUpPackage) -> int:
        plan = self.context.get("plan")
        return obj.price_cents_for(plan) if plan else obj.price_cents


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    plan = serializers.CharField()
    cycle_start = serializers.DateTimeField(allow_null=True)
    cycle_end = serializers.DateTimeField(allow_null=True)
    cached = serializers.BooleanField()


class AllowanceSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    free_allowance = serializers.IntegerField()
    free_used = serializers.IntegerField()
    free_left = serializers.IntegerField()
    plan_quota = serializers.IntegerField()
    plan_used = serializers.IntegerField()
    plan_left = serializers.IntegerField()


class WalletSummarySerializer(serializers.Serializer):
    balance = serializers.IntegerField()
    lifetime_earned = serializers.IntegerField()
    lifetime_spent = serializers.IntegerField()
    plan = PlanSerializer()
    cycle_start = serializers.DateTimeField()
    cycle_end = serializers.DateTimeField()
    allowances = AllowanceSerializer(many=True)
    created = serializers.BooleanField(required=False)


class TransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransaction
        fields = [
            "id",
            "kind",
            "amount",
            "balance_before",
            "balance_after",
            "action_type",
            "quantity",
            "reference",
            "buckets",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class MonthlySpendingSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    action_type = serializers.CharField()
    credits = serializers.IntegerField(help_text="Credits spent, net of refunds")
    spends = serializers.IntegerField()


class CycleUsageSerializer(serializers.Serializer):
    cycle_start = serializers.DateTimeField()
    action_type = serializers.CharField()
    free_used = serializers.IntegerField()
    plan_used = serializers.IntegerField()
    credits_spent = serializers.IntegerField()


class UsageMonthlySerializer(serializers.Serializer):
    current_cycle = AllowanceSerializer(many=True)
    cycles = CycleUsageSerializer(many=True)


class DashboardSerializer(serializers.Serializer):
    wallet = WalletSummarySerializer()
    recent_transactions = TransactionSerializer(many=True)
    spending = MonthlySpendingSerializer(many=True)


class QuoteSerializer(serializers.Serializer):
    action_type = serializers.CharField()
    quantity = serializers.IntegerField()
    credits_per_unit = serializers.IntegerField()
    buckets = serializers.ListField(child=serializers.ChoiceField(choices=BUCKET_CHOICES))
    price = serializers.IntegerField()
    balance = serializers.IntegerField()
    missing = serializers.IntegerField()
    allowed = serializers.BooleanField()


class PricingSerializer(serializers.Serializer):
    actions = PricingRuleSerializer(many=True)
    plans = PlanSerializer(many=True)
    packages = TopUpPackageSerializer(many=True)
    your_plan = serializers.CharField()


class CalculateItemSerializer(serializers.Serializer):
    action_type = serializers.SlugField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=100_000, default=1)


class CalculateInputSerializer(serializers.Serializer):
    items = CalculateItemSerializer(many=True, allow_empty=False, max_length=100)


class CalculateOutputSerializer(serializers.Serializer):
    items = QuoteSerializer(many=True)
    total = serializers.IntegerField()
    balance = serializers.IntegerField()
    missing = serializers.IntegerField()
    affordable = serializers.BooleanField()


class SystemStatsSerializer(serializers.Serializer):
    wallets = serializers.IntegerField()
    total_balance = serializers.IntegerField()
    lifetime_earned = serializers.IntegerField()
    lifetime_spent = serializers.IntegerField()
    wallets_by_plan = serializers.DictField(child=serializers.IntegerField())
    last_30_days = serializers.DictField()
