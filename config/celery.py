"""The Celery app. Tasks take ids, load rows, call a service; every task is safe to retry."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tranche")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
