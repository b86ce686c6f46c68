from django.urls import path

from tepat.intake import views

app_name = "intake"
urlpatterns = [
    path("", views.batches, name="batches"),
    path("<int:pk>/", views.batch_detail, name="batch"),
    path("<int:pk>/simpan/", views.batch_commit, name="commit"),
    path("<int:pk>/kolom/", views.batch_columns, name="columns"),
    path("<int:pk>/batalkan/", views.batch_rollback, name="rollback"),
    path("<int:pk>/ditolak.xlsx", views.batch_rejected, name="rejected"),
    path("templat/<str:kind>.xlsx", views.template, name="template"),
]
