"""Settings for one Tepat deployment (one regency/city or province).

Everything a deployment changes comes from the environment, so the same code runs the demo, the tests and a
regency's server:

- ``DATABASE_URL``: PostgreSQL for real deployments (``postgres://user:pass@host:5432/tepat``); unset means an
  embedded SQLite file at ``TEPAT_SQLITE`` (default ``var/tepat.sqlite3``).
- ``TEPAT_REGION``: the Kemendagri code of the deployment's region, e.g. ``64.74`` (Kota Bontang).
- ``TEPAT_SECRET_KEY``, ``TEPAT_DEBUG``, ``TEPAT_ALLOWED_HOSTS``, ``TEPAT_DATA_DIR``, ``TEPAT_VAR_DIR``.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = PACKAGE_DIR.parent.parent
DATA_DIR = Path(os.environ.get("TEPAT_DATA_DIR", REPO_DIR / "data"))
VAR_DIR = Path(os.environ.get("TEPAT_VAR_DIR", REPO_DIR / "var"))

TEPAT_REGION = os.environ.get("TEPAT_REGION", "64.74")

DEBUG = os.environ.get("TEPAT_DEBUG", "") in {"1", "true", "yes"}
SECRET_KEY = os.environ.get("TEPAT_SECRET_KEY", "tepat-insecure-key-for-demo-and-tests-only")
ALLOWED_HOSTS = os.environ.get("TEPAT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "tepat.accounts",
    "tepat.areas",
    "tepat.intake",
    "tepat.registry",
    "tepat.programs",
    "tepat.linkage",
    "tepat.targeting",
    "tepat.monitoring",
    "tepat.verification",
    "tepat.maps",
    "tepat.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tepat.web.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "tepat.config.urls"
WSGI_APPLICATION = "tepat.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tepat.web.context.deployment",
            ],
        },
    },
]

_sqlite_path = Path(os.environ.get("TEPAT_SQLITE", VAR_DIR / "tepat.sqlite3"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = 5
    # Page queries are short: PostgreSQL's JIT compiled the counting queries for 0.2–0.75 s more than they ran.
    DATABASES["default"]["OPTIONS"].setdefault("options", "-c jit=off")
else:
    _sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(_sqlite_path),
            "OPTIONS": {
                # WAL lets the web app read while a worker imports; IMMEDIATE avoids "database is locked"
                # on the first write of a transaction when two processes write.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600  # an office day; personal data should not stay open overnight
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Bahasa Indonesia")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96"}
_province = TEPAT_REGION[:2]
TIME_ZONE = "Asia/Makassar" if _province in _WITA else "Asia/Jayapura" if _province in _WIT else "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"  # `tepat collectstatic` target; WhiteNoise also serves from the app folders
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": VAR_DIR / "media"}},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Imports and other long work run in `tepat db_worker` (the demo starts one). TEPAT_TASKS_BACKEND lets a
# single-process setup run them inline: django_tasks.backends.immediate.ImmediateBackend.
TASKS = {"default": {"BACKEND": os.environ.get("TEPAT_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
