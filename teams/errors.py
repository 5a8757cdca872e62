"""Domain errors of the teams app (rendered by ``config.api.exceptions``)."""

from config.errors import Conflict, PermissionDenied, ValidationFailed


class SeatsExhausted(Conflict):
    """409: members + pending invitations already fill the plan's seats.

    ``details = {plan, seats, members, pending_invitations}``.
    """

    default_code = "seats_exhausted"


class RoleNotAllowed(PermissionDenied):
    """403: the caller's role does not allow this (see ``teams.services`` for the rules)."""

    default_code = "role_not_allowed"


class InvitationInvalid(ValidationFailed):
    """400 for a token that cannot be accepted: ``invitation_invalid`` (unknown),
    ``invitation_expired``, ``invitation_revoked`` or ``invitation_used``."""

    default_code = "invitation_invalid"
