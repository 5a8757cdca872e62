"""WSGI entry point (gunicorn). Never imports torch: the AI runs in the ai worker."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()
