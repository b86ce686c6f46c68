"""Spreadsheets Tepat writes: import templates and the rejected rows of a batch (with the reason per row)."""

from __future__ import annotations

import io
from collections import defaultdict

import xlsxwriter

from tepat.intake.messages import issue_message
from tepat.intake.models import ImportBatch, RowIssue, Severity
from tepat.registry.models import SourceRecord

TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "person": [
        ("record_id", "ID baris di daftar Anda (boleh kosong)"),
        ("nik", "NIK 16 angka. Ketik sebagai teks (awali dengan ') agar Excel tidak mengubahnya"),
        ("no_kk", "Nomor Kartu Keluarga 16 angka, sebagai teks"),
        ("nama", "Nama lengkap sesuai KTP/KK"),
        ("jenis_kelamin", "L atau P"),
        ("tempat_lahir", "Kota/kabupaten tempat lahir"),
        ("tanggal_lahir", "Tanggal lahir, format YYYY-MM-DD (mis. 1985-07-12) atau DD/MM/YYYY"),
        ("hubungan_keluarga", "Kepala Keluarga, Istri, Suami, Anak, Menantu, Cucu, Orang Tua, Mertua, Famili Lain, Lainnya"),
        ("nama_ibu_kandung", "Nama ibu kandung"),
        ("alamat", "Jalan, nomor rumah, gang"),
        ("rt", "RT, tiga angka (mis. 003)"),
        ("rw", "RW, tiga angka"),
        ("kode_desa", "Kode desa/kelurahan Kemendagri, mis. 64.74.03.1002"),
    ],
    "dtsen": [
        ("id_keluarga", "ID keluarga di ekstrak DTSEN/DTKS"),
        ("id_rumah_tangga", "ID rumah tangga (boleh kosong)"),
        ("no_kk", "Nomor KK"), ("nik", "NIK"), ("nama", "Nama"), ("jenis_kelamin", "L/P"),
        ("tempat_lahir", "Tempat lahir"), ("tanggal_lahir", "YYYY-MM-DD"), ("hubungan_keluarga", "Hubungan dengan kepala keluarga"),
        ("nama_ibu_kandung", "Nama ibu kandung"), ("alamat", "Alamat"), ("rt", "RT"), ("rw", "RW"),
        ("kode_desa", "Kode desa/kelurahan Kemendagri"), ("desil_nasional", "Desil nasional 1–10"),
        ("desil_provinsi", "Desil provinsi 1–10"), ("desil_kabupaten", "Desil kabupaten/kota 1–10"),
        ("tanggal_data", "Tanggal data desil, YYYY-MM-DD"), ("status_kepemilikan_rumah", "Milik sendiri/Kontrak/Sewa/…"),
        ("luas_lantai_m2", "Luas lantai (m²)"), ("jenis_lantai", "Jenis lantai terluas"), ("jenis_dinding", "Jenis dinding"),
        ("jenis_atap", "Jenis atap"), ("sumber_air_minum", "Sumber air minum"), ("fasilitas_bab", "Sendiri/Bersama/Umum/Tidak ada"),
        ("daya_listrik", "Tanpa listrik/450 VA/900 VA/…"), ("bahan_bakar_memasak", "Bahan bakar memasak"),
        ("aset_mobil", "Ya/Tidak"), ("aset_sepeda_motor", "Jumlah sepeda motor"),
    ],
    "death": [
        ("nik", "NIK orang yang meninggal (wajib)"), ("nama", "Nama"), ("tanggal_lahir", "Tanggal lahir"),
        ("tanggal_meninggal", "Tanggal meninggal, YYYY-MM-DD atau DD/MM/YYYY"), ("kode_desa", "Kode desa/kelurahan"),
        ("no_akta_kematian", "Nomor akta kematian"),
    ],
    "moved": [
        ("nik", "NIK orang yang pindah (wajib)"), ("nama", "Nama"), ("tanggal_pindah", "Tanggal pindah, YYYY-MM-DD"),
        ("kode_desa_asal", "Kode desa/kelurahan asal"), ("tujuan", "Kode desa/kelurahan tujuan (Kemendagri) atau nama daerah"),
    ],
    "exclusion": [
        ("nik", "NIK (wajib)"), ("nama", "Nama"),
        ("jenis_pengecualian", "asn, tni_polri, guru_sertifikasi, pln_900va_nonsubsidi, pemilik_mobil, upah_di_atas_umk, perangkat_desa, pengusaha"),
        ("sumber", "Instansi pemilik data (BKN, PLN, Samsat, BPJS Ketenagakerjaan …)"), ("keterangan", "Keterangan"),
    ],
    "proposal": [
        ("jenis_usulan", "tambah (usulan baru) atau keluar"),
        ("alasan", "Untuk usulan keluar wajib: pindah, meninggal, mampu, menolak, ganda, atau alasan lain dengan kata-kata sendiri"),
        ("nik", "NIK; usulan keluar wajib NIK atau No. KK yang valid"), ("no_kk", "Nomor KK"), ("nama", "Nama lengkap"),
        ("jenis_kelamin", "L atau P"), ("tanggal_lahir", "YYYY-MM-DD"), ("alamat", "Alamat"), ("rt", "RT"), ("rw", "RW"),
        ("kode_desa", "Kode desa/kelurahan Kemendagri (wajib)"),
    ],
    "program": [
        ("program", "Kode program (PKH, SEMBAKO, PBI-JK, PIP, RTLH, BLT-DD …); boleh kosong bila dipilih saat unggah"),
        ("periode", "Periode penyaluran: 2026-Q3 (triwulan), 2026-09 (bulan), 2026-S1 (semester), 2026 (tahun); juga dibaca Triwulan III 2026, September 2026, Tahap 2 2026. Boleh kosong bila diisi saat mengunggah"), ("nik", "NIK penerima"), ("nama", "Nama penerima"),
        ("nominal", "Nilai bantuan dalam rupiah"), ("kode_desa", "Kode desa/kelurahan Kemendagri"),
    ],
}  # fmt: skip


def template_xlsx(kind: str) -> bytes:
    """A template: the header row on the first sheet (text-formatted so NIKs survive) and an explanation sheet."""
    columns = TEMPLATES[kind]
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    bold = book.add_format({"bold": True, "bg_color": "#E8F0EC", "border": 1})
    text = book.add_format({"num_format": "@"})
    sheet = book.add_worksheet("Data")
    for col, (name, _) in enumerate(columns):
        sheet.write_string(0, col, name, bold)
        sheet.set_column(col, col, max(14, len(name) + 4), text)
    sheet.freeze_panes(1, 0)
    help_sheet = book.add_worksheet("Penjelasan")
    help_sheet.write_row(0, 0, ["Kolom", "Isi"], bold)
    for row, (name, explanation) in enumerate(columns, start=1):
        help_sheet.write_row(row, 0, [name, explanation])
    help_sheet.write(len(columns) + 2, 0, "Semua kolom boleh kosong kecuali yang disebut wajib di halaman impor. "
                     "Judul kolom boleh memakai variasi umum (No. NIK, NAMA LENGKAP, JK, TGL LAHIR …).")  # fmt: skip
    if any(name == "kode_desa" for name, _ in columns):
        help_sheet.write(len(columns) + 3, 0, "Tanpa kode desa: kolom DESA/KELURAHAN (nama) menggantikannya; tambahkan "
                         "KECAMATAN bila nama desa itu ada di lebih dari satu kecamatan.")  # fmt: skip
    help_sheet.set_column(0, 0, 22)
    help_sheet.set_column(1, 1, 90)
    book.close()
    return out.getvalue()


def rejected_rows_xlsx(batch: ImportBatch) -> bytes:
    """The rejected rows as the user sent them, plus a column saying why, ready to fix and upload again."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for issue in RowIssue.objects.filter(batch=batch, severity=Severity.ERROR).order_by("row_number", "id"):
        label = issue.header or issue.column
        reasons[issue.row_number].append(f"{label}: {issue_message(issue.code)} [{issue.code}]")
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("Ditolak")
    sheet.write_row(0, 0, ["baris_asal", "alasan_ditolak", *batch.columns], bold)
    row = 1
    records = SourceRecord.objects.filter(batch=batch, row_number__in=list(reasons)).order_by("row_number")
    for record in records.iterator(chunk_size=2000):
        sheet.write_number(row, 0, record.row_number)
        sheet.write_string(row, 1, "; ".join(reasons[record.row_number]))
        for col, value in enumerate(record.values, start=2):
            if value is None:
                continue
            sheet.write_string(
                row, col, str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            )
        row += 1
    sheet.freeze_panes(1, 2)
    book.close()
    return out.getvalue()
