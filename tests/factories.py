"""factory_boy factories shared by the tests of every app."""

import datetime

import factory
from django.contrib.auth import get_user_model


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-9")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()
            # As sign-up does: every user has a personal team (their account).
            from teams.services import team_personal_ensure

            team_personal_ensure(user=obj)


def account_of(user) -> object:
    """The id of the user's personal team: the account credits knows (``Wallet.account_id``)."""
    from teams.selectors import team_personal_of

    return team_personal_of(user=user).pk


def team_of(user):
    from teams.selectors import team_personal_of

    return team_personal_of(user=user)


class SuspendedUserFactory(UserFactory):
    status = "suspended"


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True
    role = "superadmin"


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.Profile"
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"creator_{n}")
    instagram_id = factory.Sequence(lambda n: str(900_000_000 + n))
    full_name = factory.Faker("name")
    biography = factory.Faker("sentence")
    followers_count = 10_000
    following_count = 300
    posts_count = 120


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "profiles.Post"

    profile = factory.SubFactory(ProfileFactory)
    instagram_post_id = factory.Sequence(lambda n: str(3_000_000_000_000_000_000 + n))
    shortcode = factory.Sequence(lambda n: f"C{n:010d}")
    url = factory.LazyAttribute(lambda post: f"https://www.instagram.com/p/{post.shortcode}/")
    type = "image"
    caption = factory.Faker("sentence")
    likes_count = 500
    comments_count = 20
    posted_at = factory.Faker("date_time_this_year", tzinfo=datetime.UTC)
    display_url = factory.LazyAttribute(lambda post: f"https://images.example.com/{post.shortcode}.jpg")
