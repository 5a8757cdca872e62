"""Input and output shapes of the auth API. Inputs only check types; the services validate."""

from django.contrib.auth import password_validation
from rest_framework import serializers

from accounts.models import User
from config.api.fields import DeliverableEmailField, StrictCharField


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.DictField(help_text="Field errors (field -> list of messages) or extra data.")


class ErrorSerializer(serializers.Serializer):
    """The one error envelope of the API (``config.api.exceptions``), for the schema."""

    error = ErrorDetailSerializer()


class UserSerializer(serializers.ModelSerializer):
    email_verified = serializers.BooleanField(source="is_email_verified", read_only=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "status",
            "is_staff",
            "preferences",
            "email_verified",
            "email_verified_at",
            "created_at",
            "last_login",
        ]
        read_only_fields = fields


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", 128)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class NewPasswordField(PasswordField):
    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", password_validation.password_validators_help_text_html())
        super().__init__(**kwargs)


class RegisterInputSerializer(serializers.Serializer):
    email = DeliverableEmailField(max_length=254)
    password = NewPasswordField()
    full_name = StrictCharField(max_length=200, required=False, allow_blank=True, default="")


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = PasswordField()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="JWT access token; send as `Authorization: Bearer <access>`.")
    refresh = serializers.CharField(help_text="JWT refresh token; single use (rotated on refresh).")


class LoginOutputSerializer(TokenPairSerializer):
    user = UserSerializer()


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class MeSerializer(UserSerializer):
    default_team = serializers.UUIDField(
        allow_null=True, help_text="The team requests act for when they send no X-Team-ID header."
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "default_team"]


class MeUpdateInputSerializer(serializers.Serializer):
    """Only these fields are writable; anything else in the body (email, role...) is ignored."""

    full_name = StrictCharField(max_length=200, required=False, allow_blank=True)
    default_team = serializers.UUIDField(required=False, help_text="One of your teams (404 otherwise).")
    preferences = serializers.JSONField(required=False, help_text="A JSON object; replaces the stored one.")

    def validate_preferences(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be a JSON object.")
        return value


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = PasswordField()
    new_password = NewPasswordField()


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = NewPasswordField()


class EmailVerifyInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=512)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()
