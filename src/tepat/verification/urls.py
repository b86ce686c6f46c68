from django.urls import path

from tepat.verification import views

app_name = "verification"
urlpatterns = [
    path("", views.proposals, name="proposals"),
    path("<int:pk>/putuskan/", views.decide, name="decide"),
    path("ekspor.xlsx", views.export, name="export"),
    path("kunjungan/<int:family_pk>/", views.visit, name="visit"),
]
