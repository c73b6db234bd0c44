from django.apps import AppConfig


class ProbeConfig(AppConfig):
    name = "bench.chaos.probe"
    label = "chaos_probe"
