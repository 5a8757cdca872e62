"""Jobs started by a user's unlock belong to that user's personal team."""

from django.db import migrations


def to_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    Team = apps.get_model("teams", "Team")
    AnalysisJob = apps.get_model("analysis", "AnalysisJob")
    for job in AnalysisJob.objects.using(db).filter(team__isnull=True, requested_by__isnull=False, trigger="user").iterator():
        team = Team.objects.using(db).filter(is_personal=True, created_by_id=job.requested_by_id).order_by("created_at").first()
        if team is not None:
            job.team_id = team.pk
            job.save(update_fields=["team"])


class Migration(migrations.Migration):
    dependencies = [("analysis", "0002_team_account"), ("teams", "0003_personal_teams")]

    operations = [migrations.RunPython(to_teams, migrations.RunPython.noop)]
