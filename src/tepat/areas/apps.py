from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "tepat.areas"
    verbose_name = "Wilayah"
