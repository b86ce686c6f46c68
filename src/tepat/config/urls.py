from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("impor/", include("tepat.intake.urls")),
    path("linkage/", include("tepat.linkage.urls")),
    path("penargetan/", include("tepat.targeting.urls")),
    path("pemantauan/", include("tepat.monitoring.urls")),
    path("usulan/", include("tepat.verification.urls")),
    path("peta/", include("tepat.maps.urls")),
    path("program/", include("tepat.programs.urls")),
    path("", include("tepat.web.urls")),
]
