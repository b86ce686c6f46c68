from django.urls import path

from tepat.linkage import views

app_name = "linkage"
urlpatterns = [
    path("", views.review, name="review"),
    path("jalankan/", views.run, name="run"),
    path("pasangan/<int:pk>/", views.decide, name="decide"),
    path("gabung/<int:pk>/batal/", views.undo, name="undo"),
    path("kualitas/", views.quality, name="quality"),
    path("daftar-bersih.csv", views.cleaned, name="cleaned"),
    path("periksa/<int:batch_pk>/", views.checklist, name="checklist"),
]
