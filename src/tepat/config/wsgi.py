import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
application = get_wsgi_application()

from tepat.config.warmup import warm_up_in_background  # noqa: E402  (after Django is set up)

warm_up_in_background()
