from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tepat.web"
    verbose_name = "Antarmuka web"
