"""Every existing user gets a personal team (owner, their default): no user is without a team."""

import secrets

from django.db import migrations
from django.utils.text import slugify


def personal_teams(apps, schema_editor):
    db = schema_editor.connection.alias
    User = apps.get_model("accounts", "User")
    Team = apps.get_model("teams", "Team")
    Membership = apps.get_model("teams", "Membership")
    for user in User.objects.using(db).all().iterator():
        memberships = Membership.objects.using(db).filter(user=user)
        if not Team.objects.using(db).filter(is_personal=True, created_by=user).exists():
            label = (getattr(user, "full_name", "") or "").strip() or user.email.split("@")[0]
            name = f"{label}'s team"[:120]
            team = Team.objects.using(db).create(
                name=name, slug=f"{slugify(name)[:100] or 'team'}-{secrets.token_hex(4)}", created_by=user,
                is_personal=True,
            )
            first = not memberships.exists()
            Membership.objects.using(db).create(team=team, user=user, role="owner", is_default=first)
        if not memberships.filter(is_default=True).exists():
            first = memberships.order_by("joined_at").first()
            first.is_default = True
            first.save(update_fields=["is_default"])


class Migration(migrations.Migration):
    dependencies = [("teams", "0002_membership_default"), ("accounts", "0001_initial")]

    operations = [migrations.RunPython(personal_teams, migrations.RunPython.noop)]
