"""teams services."""

from __future__ import annotations

from django.db import transaction

from teams.models import Team


def team_flag_for_staff(*, team: Team, reason: str) -> Team:
    """Flag the team for staff review (a payment dispute); the first reason is kept."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        if not locked.flagged_for_staff:
            locked.flagged_for_staff = True
            locked.flagged_reason = reason[:255]
            locked.save(update_fields=["flagged_for_staff", "flagged_reason", "updated_at"])
    team.flagged_for_staff, team.flagged_reason = locked.flagged_for_staff, locked.flagged_reason
    return locked
