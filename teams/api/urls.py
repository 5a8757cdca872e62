"""Teams API routes, mounted at ``/api/v1/teams/``."""

from django.urls import path

from teams.api import views

app_name = "teams"
urlpatterns = [
    path("", views.TeamListCreateView.as_view(), name="list"),
    path("invitations/accept", views.InvitationAcceptView.as_view(), name="invitation-accept"),
    path("<uuid:team_id>", views.TeamDetailView.as_view(), name="detail"),
    path("<uuid:team_id>/members", views.MemberListView.as_view(), name="members"),
    path("<uuid:team_id>/members/leave", views.MemberLeaveView.as_view(), name="member-leave"),
    path("<uuid:team_id>/members/<uuid:user_id>", views.MemberDetailView.as_view(), name="member-detail"),
    path("<uuid:team_id>/ownership/transfer", views.OwnershipTransferView.as_view(), name="ownership-transfer"),
    path("<uuid:team_id>/invitations", views.InvitationListCreateView.as_view(), name="invitations"),
    path(
        "<uuid:team_id>/invitations/<int:invitation_id>/resend",
        views.InvitationResendView.as_view(),
        name="invitation-resend",
    ),
    path(
        "<uuid:team_id>/invitations/<int:invitation_id>/revoke",
        views.InvitationRevokeView.as_view(),
        name="invitation-revoke",
    ),
    path("<uuid:team_id>/usage", views.TeamUsageView.as_view(), name="usage"),
]
