"""Signal receivers of the accounts app (connected in ``AccountsConfig.ready``)."""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.auth_cache import auth_record_invalidate


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.auth_record.saved")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.auth_record.deleted")
def user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Any change to a user row (status, staff flag, password) drops its cached auth record."""
    auth_record_invalidate(instance.pk)
