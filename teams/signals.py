"""Membership changes drop the member's cached membership record (and nothing else)."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from teams.models import Membership
from teams.services import memberships_invalidate


@receiver(post_save, sender=Membership, dispatch_uid="teams_membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="teams_membership_deleted")
def membership_changed(sender, instance: Membership, **kwargs) -> None:
    memberships_invalidate(instance.user_id)
