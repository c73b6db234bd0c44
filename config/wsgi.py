"""WSGI entry point: the `web` process (gunicorn) serves the REST API and the admin."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

if settings.DEBUG and not settings.STATIC_HASHED:
    # Development without collectstatic: serve the apps' static files (WhiteNoise serves the
    # collected ones otherwise; config/settings.py).
    from django.contrib.staticfiles.handlers import StaticFilesHandler

    application = StaticFilesHandler(application)
