from django.urls import path

from tepat.targeting import views

app_name = "targeting"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("skor/", views.scores, name="scores"),
    path("skor/<int:pk>/progres/", views.run_progress, name="run_progress"),
    path("pmt/", views.pmt_upload, name="pmt_upload"),
    path("tabel-keluarga.csv", views.family_table_export, name="family_table"),
    path("aturan/", views.rules, name="rules"),
    path("aturan/baru/", views.rule_new, name="rule_new"),
    path("aturan/periksa/", views.rule_check, name="rule_check"),
    path("aturan/uji/", views.dry_run, name="dry_run"),
    path("aturan/<int:pk>/", views.rule_detail, name="rule"),
    path("aturan/<int:pk>/hapus/", views.rule_delete, name="rule_delete"),
    path("aturan/<int:pk>/pulihkan/", views.rule_restore, name="rule_restore"),
    path("aturan/<int:pk>/daftar-prioritas.xlsx", views.rule_export, name="rule_export"),
    path("skenario/", views.scenarios, name="scenarios"),
    path("skenario/baru/", views.scenario_new, name="scenario_new"),
    path("skenario/<int:pk>/", views.scenario_detail, name="scenario"),
    path("skenario/<int:pk>/ubah/", views.scenario_edit, name="scenario_edit"),
    path("skenario/<int:pk>/hapus/", views.scenario_delete, name="scenario_delete"),
    path("skenario/<int:pk>/pulihkan/", views.scenario_restore, name="scenario_restore"),
    path("skenario/<int:pk>/ekspor.xlsx", views.scenario_export, name="scenario_export"),
]
