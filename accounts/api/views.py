"""Auth endpoints under ``/api/v1/auth/``: each validates input, calls one service, serializes."""

from django.contrib.auth import update_session_auth_hash
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api import serializers as s
from accounts.api import throttles
from teams import selectors as team_selectors
from teams import services as team_services

TAGS = ["auth"]
ERROR_400 = OpenApiResponse(s.ErrorSerializer, description="Invalid input; field errors in `error.details`.")
ERROR_401 = OpenApiResponse(s.ErrorSerializer, description="Not authenticated, or wrong credentials/token.")
ERROR_404 = OpenApiResponse(s.ErrorSerializer, description="Not found (e.g. a team you do not belong to).")
ERROR_429 = OpenApiResponse(
    s.ErrorSerializer, description="Too many attempts; see the `Retry-After` header and `error.details.retry_after`."
)
RESET_REQUESTED = "If an account with this email exists, a link to reset its password has been sent."


class PublicAPIView(APIView):
    """An endpoint for anonymous clients: no authentication, so a stale token cannot block it."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


def _tokens_body(tokens: services.AuthTokens) -> dict[str, str]:
    return {"access": tokens.access, "refresh": tokens.refresh}


class RegisterView(PublicAPIView):
    throttle_classes = [throttles.RegisterRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_register",
        summary="Create an account",
        description="Creates the account and emails a verification link. Log in afterwards.",
        request=s.RegisterInputSerializer,
        responses={201: s.UserSerializer, 400: ERROR_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        data = s.RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():  # no user is ever without a team
            user = services.user_create(**data.validated_data)
            team_services.team_personal_ensure(user=user)
        return Response(s.UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(PublicAPIView):
    throttle_classes = [throttles.LoginRateThrottle, throttles.LoginEmailRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_login",
        summary="Log in with email and password",
        request=s.LoginInputSerializer,
        responses={
            200: s.LoginOutputSerializer,
            400: ERROR_400,
            401: ERROR_401,
            403: OpenApiResponse(s.ErrorSerializer, description="The account is suspended (`account_suspended`)."),
            429: ERROR_429,
        },
    )
    def post(self, request: Request) -> Response:
        data = s.LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, tokens = services.user_login(**data.validated_data)
        return Response({**_tokens_body(tokens), "user": s.UserSerializer(user).data})


class RefreshView(PublicAPIView):
    # Refresh tokens cannot be guessed; the default API throttles are enough here, and a
    # strict per-address limit would hit offices where many users share one address.

    @extend_schema(
        tags=TAGS,
        operation_id="auth_refresh",
        summary="Exchange a refresh token for a new token pair",
        description="The refresh token is single use: it is blacklisted and a new one is returned.",
        request=s.RefreshInputSerializer,
        responses={200: s.TokenPairSerializer, 400: ERROR_400, 401: ERROR_401, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.auth_tokens_refresh(refresh=data.validated_data["refresh"])
        return Response(_tokens_body(tokens))


class LogoutView(PublicAPIView):
    """Logging out needs only the refresh token: the access token may already have expired."""

    @extend_schema(
        tags=TAGS,
        operation_id="auth_logout",
        summary="Log out (blacklist the refresh token)",
        request=s.RefreshInputSerializer,
        responses={204: None, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.auth_logout(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


def _me(user) -> dict:
    team_services.team_personal_ensure(user=user)
    # MeSerializer's shape: the user and their default team.
    return {**s.UserSerializer(user).data, "default_team": _default_team(user)}


def _default_team(user) -> str | None:
    return team_selectors.memberships_record(user.pk)["default"]


class MeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(tags=TAGS, operation_id="auth_me_retrieve", responses={200: s.MeSerializer, 401: ERROR_401})
    def get(self, request: Request) -> Response:
        return Response(_me(request.user))

    @extend_schema(
        tags=TAGS,
        operation_id="auth_me_update",
        summary="Update my name, preferences and default team",
        description="Only `full_name`, `preferences` and `default_team` (one of your teams) are writable; "
        "other fields are ignored.",
        request=s.MeUpdateInputSerializer,
        responses={200: s.MeSerializer, 400: ERROR_400, 401: ERROR_401, 404: ERROR_404},
    )
    def patch(self, request: Request) -> Response:
        data = s.MeUpdateInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        default_team = fields.pop("default_team", None)
        with transaction.atomic():
            if default_team is not None:
                team_services.membership_default_set(user=request.user, team_id=default_team)
            user = services.user_update(user=request.user, **fields)
        return Response(_me(user))


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_change",
        summary="Change my password",
        description="Logs out every other session (their refresh tokens are revoked) and returns a new pair.",
        request=s.PasswordChangeInputSerializer,
        responses={200: s.TokenPairSerializer, 400: ERROR_400, 401: ERROR_401},
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordChangeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.user_password_change(user=request.user, **data.validated_data)
        # Keep a browser session (browsable API) alive too, as Django's own view does.
        update_session_auth_hash(request._request, request.user)
        return Response(_tokens_body(tokens))


class PasswordResetView(PublicAPIView):
    throttle_classes = [throttles.PasswordResetRateThrottle, throttles.PasswordResetEmailRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_reset",
        summary="Email a password reset link",
        description="Answers the same whether or not the email has an account.",
        request=s.PasswordResetInputSerializer,
        responses={202: s.DetailSerializer, 400: ERROR_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordResetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_reset_request(email=data.validated_data["email"])
        return Response({"detail": RESET_REQUESTED}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicAPIView):
    throttle_classes = [throttles.TokenConfirmRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_password_reset_confirm",
        summary="Set a new password from a reset link",
        description="`uid` and `token` come from the link's query string. Logs out every session.",
        request=s.PasswordResetConfirmInputSerializer,
        responses={200: s.DetailSerializer, 400: ERROR_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordResetConfirmInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_password_reset_confirm(
            uidb64=data.validated_data["uid"],
            token=data.validated_data["token"],
            new_password=data.validated_data["new_password"],
        )
        return Response({"detail": "Your password has been changed. You can log in now."})


class EmailVerifyView(PublicAPIView):
    throttle_classes = [throttles.TokenConfirmRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_email_verify",
        summary="Confirm an email address with the token from the verification link",
        request=s.EmailVerifyInputSerializer,
        responses={200: s.UserSerializer, 400: ERROR_400, 429: ERROR_429},
    )
    def post(self, request: Request) -> Response:
        data = s.EmailVerifyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_email_verify(token=data.validated_data["token"])
        return Response(s.UserSerializer(user).data)


class EmailVerifyResendView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [throttles.VerificationResendRateThrottle]

    @extend_schema(
        tags=TAGS,
        operation_id="auth_email_verify_resend",
        summary="Send the verification email again",
        request=None,
        responses={
            202: s.DetailSerializer,
            401: ERROR_401,
            409: OpenApiResponse(s.ErrorSerializer, description="Already verified (`already_verified`)."),
            429: ERROR_429,
        },
    )
    def post(self, request: Request) -> Response:
        services.user_email_verification_send(user=request.user)
        return Response({"detail": "A new verification link has been sent."}, status=status.HTTP_202_ACCEPTED)
