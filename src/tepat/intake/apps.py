from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "tepat.intake"
    verbose_name = "Impor data"
