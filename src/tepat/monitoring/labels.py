"""What the engine's statuses, reasons and methods are called on the page (Indonesian; English via the catalogue)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tepat.engine.monitoring import Estimator, Method, MethodReason, Reason, Status

STATUS: dict[Status, Promise] = {
    Status.ACHIEVED: _("Tercapai"),
    Status.ON_TRACK: _("Sesuai jalur"),
    Status.AT_RISK: _("Berisiko"),
    Status.OFF_TRACK: _("Tidak sesuai jalur"),
    Status.UNKNOWN: _("Belum dapat dinilai"),
}

REASON: dict[Reason, Promise] = {
    Reason.NO_DATA: _("Belum ada data indikator ini untuk wilayah ini."),
    Reason.SINGLE_POINT: _("Baru ada satu angka; tren belum dapat dihitung."),
    Reason.MET_AT_TARGET_YEAR: _("Angka pada tahun target memenuhi target."),
    Reason.MISSED_AT_TARGET_YEAR: _("Angka pada tahun target tidak memenuhi target."),
    Reason.ALREADY_MET: _("Angka terakhir sudah memenuhi target; jaga agar tidak naik lagi."),
    Reason.PROJECTED_MET: _("Bila laju tren berlanjut, target tercapai pada tahun target."),
    Reason.PROJECTED_CLOSE: _(
        "Bila laju tren berlanjut, target terlewat tipis: paling sedikit separuh jarak tertutup. Perlu percepatan."
    ),
    Reason.PROJECTED_SHORT: _("Bila laju tren berlanjut, kurang dari separuh jarak ke target tertutup."),
    Reason.WRONG_DIRECTION: _("Tren bergerak menjauhi target."),
}

METHOD: dict[Method, Promise] = {
    Method.LOG_LINEAR: _("log-linear (perubahan persentase tetap per tahun)"),
    Method.LINEAR: _("linear (perubahan poin tetap per tahun)"),
}

METHOD_REASON: dict[MethodReason, Promise] = {
    MethodReason.DEFAULT_PROPORTIONAL: _(
        "dipakai karena angka kemiskinan berubah secara proporsional dan tidak dapat turun di bawah nol"
    ),
    MethodReason.ZERO_VALUE: _("dipakai karena ada nilai nol: kurva log-linear tidak pernah mencapai nol"),
    MethodReason.CHOSEN: _("dipilih pada pengaturan tren"),
}

ESTIMATOR: dict[Estimator, Promise] = {
    Estimator.THEIL_SEN: _("Theil–Sen: median kemiringan antar-pasangan tahun, tahan terhadap lonjakan satu-dua tahun"),
    Estimator.OLS: _("kuadrat terkecil biasa"),
}
