from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "tepat.verification"
    verbose_name = "Verifikasi dan usulan"
