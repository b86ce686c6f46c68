from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "tepat.linkage"
    verbose_name = "Linkage dan kualitas data"
