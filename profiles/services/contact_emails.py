"""Contact email reveals: a team reveals a creator's contact email once (paid by the caller's gate)."""

from __future__ import annotations

from typing import Any

from profiles.models import ContactEmailReveal, Profile


def contact_email_revealed(*, team_id: Any, profile: Profile) -> bool:
    """Whether the team has revealed the profile's contact email."""
    return ContactEmailReveal.objects.filter(team_id=team_id, profile=profile).exists()


def contact_email_reveal(*, team_id: Any, profile: Profile, actor: Any) -> ContactEmailReveal:
    """Record that ``actor`` revealed the email for the team (idempotent: the first stands)."""
    reveal, _ = ContactEmailReveal.objects.get_or_create(team_id=team_id, profile=profile, defaults={"actor": actor})
    return reveal
