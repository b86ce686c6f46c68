from django.urls import path

from tepat.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("wilayah/", views.overview, name="overview"),
    path("wilayah/<str:code>/", views.overview, name="overview_area"),
    path("keluarga/", views.families, name="families"),
    path("keluarga/<int:pk>/", views.family_detail, name="family"),
    path("audit/", views.audit_log, name="audit"),
]
