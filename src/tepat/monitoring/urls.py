from django.urls import path

from tepat.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("", views.region, name="region"),
    path("<str:code>/", views.area, name="area"),
    path("<str:code>/target/", views.target_edit, name="target_new"),
    path("<str:code>/target/<int:pk>/", views.target_edit, name="target_edit"),
    path("<str:code>/target/<int:pk>/hapus/", views.target_remove, name="target_delete"),
]
