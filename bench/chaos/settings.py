"""The project's settings plus the probe app (bench/chaos/probe): what the bank test's stack
and runner run with (`DJANGO_SETTINGS_MODULE=bench.chaos.settings`)."""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.chaos.probe"]
