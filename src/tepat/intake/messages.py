"""People-readable messages for row issue codes (Bahasa Indonesia first, English via the catalogue)."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tepat.engine.identity import KkProblem, NikProblem

ROW_MESSAGES = {
    "village.missing": _("Kode desa/kelurahan kosong: keluarga tidak dapat ditempatkan"),
    "village.unknown": _("Kode desa/kelurahan tidak dikenal (Kepmendagri)"),
    "village.name_unknown": _("Nama desa/kelurahan tidak ada di wilayah ini: periksa ejaan atau isi kode desa"),
    "village.name_ambiguous": _(
        "Nama desa/kelurahan ini ada di lebih dari satu kecamatan: isi kolom kecamatan atau kode desa"
    ),
    "row.no_identity": _("Baris tanpa NIK dan tanpa nama"),
    "row.footer": _("Baris penutup daftar (jumlah, tanda tangan, NIP): dilewati, bukan data"),
    "row.hint": _("Baris petunjuk pengisian atau contoh di bawah judul kolom: dilewati, bukan data"),
    "date.invalid": _("Tanggal tidak dapat dibaca atau tidak ada di kalender"),
    "rt_rw.invalid": _("RT/RW tidak dapat dipisah (tulis mis. 003/005); RT dan RW dibiarkan kosong"),
    "sex.both_marked": _("Kolom L dan P sama-sama ditandai: jenis kelamin dibiarkan kosong"),
    "date.month_first": _("Tanggal ditulis bulan/hari/tahun (urutan Amerika): dibaca begitu, periksa pengaturan Excel"),
    "number.invalid": _("Bukan angka"),
    "number.range": _("Angka di luar rentang yang masuk akal untuk kolom ini: dibiarkan kosong"),
    "bool.invalid": _("Isi harus Ya atau Tidak"),
    "relationship.invalid": _("Hubungan keluarga tidak dikenal"),
    "period.invalid": _(
        "Periode tidak dapat dibaca (tulis mis. 2026-Q3, 2026-09, Triwulan III 2026): disimpan apa adanya, tidak "
        "terhitung dalam analisis per tahun sampai diperbaiki"
    ),
    "period.no_year": _("Periode tanpa tahun: isi tahunnya, atau isi periode (dengan tahun) saat mengunggah"),
    "relationship.bps_numbering": _(
        "Kode hubungan keluarga berupa angka dibaca dengan penomoran BPS/DTKS (2 istri/suami, 3 anak, 4 menantu), "
        "bukan SHDK Dukcapil (3 istri, 4 anak): periksa bila daftar ini memakai SHDK"
    ),
    "desil.range": _("Desil harus 1 sampai 10"),
    "value.invalid": _("Isi sel tidak dapat dibaca"),
    "program.missing": _("Program tidak disebut: isi kolom program atau pilih program saat mengunggah"),
    "exclusion.unknown": _("Jenis pengecualian tidak dikenal"),
    "proposal.action_unknown": _("Jenis usulan tidak dikenal: tulis 'tambah' (usulan baru) atau 'keluar'"),
    "proposal.reason_missing": _("Usulan keluar tanpa alasan (pindah, meninggal, mampu, menolak, ganda, atau lainnya)"),
    "proposal.identity_missing": _("Usulan keluar harus menyebut NIK atau No. KK yang valid"),
    "area.missing": _("Kode wilayah kosong"),
    "area.unknown": _("Kode wilayah tidak dikenal (Kepmendagri)"),
    "indicator.unknown": _("Indikator tidak dikenal (p0_pct, poor_thousand, extreme_poor_pct, atau namanya)"),
    "year.invalid": _("Tahun kosong atau tidak masuk akal"),
    "value.missing": _("Nilai kosong"),
    "comparison.invalid": _("Arah target harus <, <=, >= atau >"),
}


def issue_message(code: str) -> str:
    """The message for a row issue code; NIK and KK codes come from the identity engine's own table."""
    lang = "en" if (get_language() or "id").startswith("en") else "id"
    for enum in (NikProblem, KkProblem):
        try:
            return enum(code).message(lang)
        except ValueError:
            continue
    return str(ROW_MESSAGES.get(code, code))
