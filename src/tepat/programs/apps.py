from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "tepat.programs"
    verbose_name = "Program dan penerima manfaat"
