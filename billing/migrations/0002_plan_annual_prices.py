"""Give every paid plan an annual price when it has none: ten months' price (two months free).

Prices already set (the credits seed sets $1,990 and $4,990) are left as they are.
"""

from django.db import migrations


def set_annual_prices(apps, schema_editor):
    db = schema_editor.connection.alias
    Plan = apps.get_model("credits", "Plan")
    for plan in Plan.objects.using(db).filter(monthly_price_cents__gt=0, annual_price_cents=0):
        plan.annual_price_cents = plan.monthly_price_cents * 10
        plan.save(update_fields=["annual_price_cents"])


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial"), ("credits", "0002_seed_plans_prices")]
    operations = [migrations.RunPython(set_annual_prices, migrations.RunPython.noop)]
