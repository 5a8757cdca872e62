"""Teams other than personal ones lose the Free plan's monthly allowances (one set per person).

Their wallets get ``free_allowances=False`` (``credits.selectors.free_allowances_withheld``):
on Free they unlock with credits; on a paid plan nothing changes.
"""

from django.db import migrations


def withhold(apps, schema_editor):
    db = schema_editor.connection.alias
    Team = apps.get_model("teams", "Team")
    Wallet = apps.get_model("credits", "Wallet")
    extra = Team.objects.using(db).filter(is_personal=False).values_list("pk", flat=True)
    Wallet.objects.using(db).filter(account_id__in=list(extra)).update(free_allowances=False)


def restore(apps, schema_editor):
    Wallet = apps.get_model("credits", "Wallet")
    Wallet.objects.using(schema_editor.connection.alias).update(free_allowances=True)


class Migration(migrations.Migration):
    dependencies = [("teams", "0004_beat_invitations_expire"), ("credits", "0007_wallet_free_allowances")]

    operations = [migrations.RunPython(withhold, restore)]
