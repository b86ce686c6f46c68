from django.apps import AppConfig


class TargetingConfig(AppConfig):
    name = "tepat.targeting"
    verbose_name = "Penargetan"
