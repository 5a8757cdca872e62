"""Seed the plans, top-up packages, action prices and free allowances of PRODUCT.md.

Annual prices: ten times the monthly price (two months free), Standard $1,990/year and
Premium $4,990/year; Free has no annual price. Reversing removes only the seeded rows.
"""

from django.db import migrations

PLANS = [
    # code, name, monthly cents, annual cents, seats, profiles, emails, posts, discount %, order
    ("free", "Free", 0, 0, 1, 5, 0, 0, 0, 0),
    ("standard", "Standard", 19900, 199000, 2, 500, 250, 125, 0, 1),
    ("premium", "Premium", 49900, 499000, 5, 2000, 800, 300, 20, 2),
]
PACKAGES = [
    ("starter", "Starter", 1000, 5000),
    ("professional", "Professional", 2500, 12500),
    ("enterprise", "Enterprise", 10000, 50000),
]
RULES = [
    # action_type, credits per unit, free uses per month, description
    ("influencer_unlock", 25, 0, "Profile analysis / unlock of a creator (30 days of access)"),
    ("post_analytics", 5, 0, "Post analytics"),
    ("discovery_pagination", 10, 5, "One page of discovery results"),
    ("email_unlock", 1, 0, "Email unlock"),
    ("campaign_analysis", 10, 0, "Campaign analysis"),
    ("bulk_export", 50, 1, "Bulk export"),
    ("advanced_search", 15, 10, "Advanced search"),
]


def seed(apps, schema_editor):
    db = schema_editor.connection.alias
    Plan = apps.get_model("credits", "Plan")
    TopUpPackage = apps.get_model("credits", "TopUpPackage")
    PricingRule = apps.get_model("credits", "PricingRule")
    for code, name, monthly, annual, seats, profiles, emails, posts, discount, order in PLANS:
        Plan.objects.using(db).update_or_create(
            code=code,
            defaults={
                "name": name,
                "monthly_price_cents": monthly,
                "annual_price_cents": annual,
                "seats": seats,
                "profiles_per_month": profiles,
                "emails_per_month": emails,
                "posts_per_month": posts,
                "topup_discount_percent": discount,
                "sort_order": order,
            },
        )
    for code, name, credits, price in PACKAGES:
        TopUpPackage.objects.using(db).update_or_create(
            code=code, defaults={"name": name, "credits": credits, "price_cents": price}
        )
    for action_type, price, free, description in RULES:
        PricingRule.objects.using(db).update_or_create(
            action_type=action_type,
            defaults={
                "credits_per_unit": price,
                "free_uses_per_month": free,
                "description": description,
                "active": True,
            },
        )


def unseed(apps, schema_editor):
    db = schema_editor.connection.alias
    apps.get_model("credits", "PricingRule").objects.using(db).filter(action_type__in=[r[0] for r in RULES]).delete()
    apps.get_model("credits", "TopUpPackage").objects.using(db).filter(code__in=[p[0] for p in PACKAGES]).delete()
    apps.get_model("credits", "Plan").objects.using(db).filter(code__in=[p[0] for p in PLANS]).delete()


class Migration(migrations.Migration):
    dependencies = [("credits", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
