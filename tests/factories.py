"""factory_boy factories shared by the tests of every app."""

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


class SuspendedUserFactory(UserFactory):
    status = "suspended"


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True
    role = "superadmin"
