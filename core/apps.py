from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.urls import register_converter

        from core.converters import ObjectIdConverter

        # Before any URLconf is imported: `<id:…>`, a bounded object id (core/converters.py).
        register_converter(ObjectIdConverter, "id")
        # Each app registers its outbox handlers in `<app>/handlers.py`.
        autodiscover_modules("handlers")
