"""Test settings: the base settings with fast hashing, eager tasks and no outside calls.

PostgreSQL and Redis are used when ``DATABASE_URL`` / ``REDIS_URL`` are set (``make test``
sets them when the services answer on localhost); otherwise the embedded defaults.
"""

import os

from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

# A process the tests start (gunicorn, a worker) is given the suite's key to accept its tokens.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or get_random_secret_key()
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
AI_ENGINE = "rules"
PIPELINE_EAGER_THREAD = False
# Throttles stay on (they are tested) but roomy enough for the suite's own traffic.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {
        **REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
        "anon": "10000/min",
        "user": "10000/min",
    },
}

# Exports written by the suite go to a temporary directory, not the checkout's exports/.
if STORAGES["exports"]["BACKEND"].endswith("FileSystemStorage"):  # noqa: F405
    import tempfile

    EXPORTS_ROOT = Path(tempfile.gettempdir()) / f"ca-test-exports-{os.getpid()}"  # noqa: F405
    STORAGES["exports"] = {**STORAGES["exports"], "OPTIONS": {"location": str(EXPORTS_ROOT), "base_url": None}}  # noqa: F405
