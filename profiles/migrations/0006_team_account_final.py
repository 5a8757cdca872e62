# Unlocks and exports are the team's: the access row is renamed (its data kept), per team.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('profiles', '0005_accesses_to_teams'),
        ('teams', '0003_personal_teams'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name='userprofileaccess', name='profiles_access_unique'),
        migrations.RemoveIndex(model_name='userprofileaccess', name='profiles_access_user_idx'),
        migrations.RemoveField(model_name='userprofileaccess', name='user'),
        migrations.RenameModel(old_name='UserProfileAccess', new_name='TeamProfileAccess'),
        migrations.AlterField(
            model_name='teamprofileaccess',
            name='team',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='profile_accesses', to='teams.team'),
        ),
        migrations.AddIndex(
            model_name='teamprofileaccess',
            index=models.Index(fields=['team', 'expires_at'], name='profiles_access_team_idx'),
        ),
        migrations.AddConstraint(
            model_name='teamprofileaccess',
            constraint=models.UniqueConstraint(fields=('team', 'profile'), name='profiles_access_team_unique'),
        ),
        migrations.RemoveIndex(model_name='export', name='profiles_export_user_idx'),
        migrations.AlterField(
            model_name='export',
            name='team',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='teams.team'),
        ),
        migrations.AlterField(
            model_name='export',
            name='user',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='exports', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='export',
            index=models.Index(fields=['team', '-created_at'], name='profiles_export_team_idx'),
        ),
    ]
