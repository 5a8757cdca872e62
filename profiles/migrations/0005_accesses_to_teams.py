"""Each user's unlocks and exports become their personal team's (the user stays as who did it)."""

from django.db import migrations


def to_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    Team = apps.get_model("teams", "Team")
    Access = apps.get_model("profiles", "UserProfileAccess")
    Export = apps.get_model("profiles", "Export")
    personal = {}

    def team_of(user_id):
        if user_id not in personal:
            team = Team.objects.using(db).filter(is_personal=True, created_by_id=user_id).order_by("created_at").first()
            personal[user_id] = team.pk
        return personal[user_id]

    for access in Access.objects.using(db).filter(team__isnull=True).iterator():
        access.team_id, access.granted_by_id = team_of(access.user_id), access.user_id
        access.save(update_fields=["team", "granted_by"])
    for export in Export.objects.using(db).filter(team__isnull=True).iterator():
        export.team_id = team_of(export.user_id)
        export.save(update_fields=["team"])


class Migration(migrations.Migration):
    dependencies = [("profiles", "0004_team_account"), ("teams", "0003_personal_teams")]

    operations = [migrations.RunPython(to_teams, migrations.RunPython.noop)]
