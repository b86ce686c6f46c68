from django.urls import path

from tepat.programs import views

app_name = "programs"
urlpatterns = [
    path("", views.programs, name="list"),
    path("baru/", views.program_edit, name="new"),
    path("<int:pk>/", views.program, name="detail"),
    path("<int:pk>/ubah/", views.program_edit, name="edit"),
    path("<int:pk>/status/", views.batch_status, name="batch_status"),
    path("analisis/", views.analysis, name="analysis"),
    path("analisis/ekspor.xlsx", views.analysis_export, name="analysis_export"),
    path("analisis/status/<int:pk>/", views.analysis_status, name="analysis_status"),
    path("analisis/<str:code>/", views.analysis, name="analysis_area"),
    path("rat/", views.plans, name="plans"),
    path("rat/<int:pk>/", views.plan, name="plan"),
    path("rat/sub/<int:pk>/tindak-lanjut/", views.follow_up, name="follow_up"),
    path("evaluasi/", views.evaluation_page, name="evaluation"),
    path("evaluasi/ekspor.xlsx", views.evaluation_export, name="evaluation_export"),
    path("adopsi/", views.adoption, name="adoption"),
    path("adopsi/klaim/", views.claim, name="claim"),
    path("adopsi/lokus/", views.locus, name="locus"),
    path("adopsi/<int:pk>/<str:action>/", views.adoption_update, name="adoption_update"),
]
