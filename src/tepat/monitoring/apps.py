from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "tepat.monitoring"
    verbose_name = "Pemantauan dan indikator"
