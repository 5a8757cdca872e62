"""Each per-user wallet becomes the wallet of its user's personal team; spends name their actor."""

from django.db import migrations


def wallets_to_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    Wallet = apps.get_model("credits", "Wallet")
    Team = apps.get_model("teams", "Team")
    CreditTransaction = apps.get_model("credits", "CreditTransaction")
    for wallet in Wallet.objects.using(db).filter(account_id__isnull=True).iterator():
        team = Team.objects.using(db).filter(is_personal=True, created_by_id=wallet.user_id).order_by("created_at").first()
        wallet.account_id = team.pk
        wallet.save(update_fields=["account_id"])
        CreditTransaction.objects.using(db).filter(wallet=wallet, actor__isnull=True, kind="spend").update(actor_id=wallet.user_id)


def teams_to_wallets(apps, schema_editor):
    db = schema_editor.connection.alias
    Wallet = apps.get_model("credits", "Wallet")
    Wallet.objects.using(db).update(account_id=None)


class Migration(migrations.Migration):
    dependencies = [("credits", "0004_team_account"), ("teams", "0003_personal_teams")]

    operations = [migrations.RunPython(wallets_to_teams, teams_to_wallets)]
