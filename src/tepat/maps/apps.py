from django.apps import AppConfig


class MapsConfig(AppConfig):
    name = "tepat.maps"
    verbose_name = "Peta dan kantong kemiskinan"
