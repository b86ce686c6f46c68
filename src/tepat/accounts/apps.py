from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tepat.accounts"
    verbose_name = "Akun dan audit"

    def ready(self) -> None:
        from tepat.accounts import signals  # noqa: F401  (connects the login audit)
