"""Column names as Indonesian lists really write them, mapped to the registry's fields."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _

from tepat.registry.labels import LABELS

# canonical field -> accepted header spellings (after normalise_header)
COLUMN_VARIANTS: dict[str, tuple[str, ...]] = {
    "record_id": (
        "record_id",
        "id",
        "no_urut",
        "id_record",
        "id_data",
        "idartbdt",
        "id_art",
        "id_art_bdt",
        "id_anggota",
    ),
    "family_key": (
        "id_keluarga",
        "idkeluarga",
        "id_kel",
        "id_keluarga_dtsen",
        "id_dtks_keluarga",
        "id_keluarga_p3ke",
        "id_p3ke",
    ),
    "household_key": ("id_rumah_tangga", "id_ruta", "idrt", "id_rt_tangga", "idbdt", "id_bdt", "id_ruta_bdt"),
    "kk": ("no_kk", "nomor_kk", "nokk", "kk", "nomor_kartu_keluarga", "no_kartu_keluarga", "nkk", "no_kk_penerima"),
    "nik": (
        "nik",
        "no_nik",
        "nomor_nik",
        "nomor_induk_kependudukan",
        "nik_art",
        "no_ktp",
        "nomor_ktp",
        "nik_ktp",
        "no_induk_kependudukan",
        "nik_penerima",
        "nik_anggota",
    ),
    "name": (
        "nama",
        "nama_lengkap",
        "nama_art",
        "nama_penerima",
        "nama_anggota",
        "nama_sesuai_ktp",
        "nama_lengkap_sesuai_ktp",
        "nama_penerima_manfaat",
    ),
    "sex": (
        "jenis_kelamin",
        "jk",
        "l_p",
        "kelamin",
        "sex",
        "jenis_kelamin_l_p",
        "jk_l_p",
        "jnskel",
        "jns_kel",
        "jenkel",
    ),
    # Forms that tick one of two columns under 'JENIS KELAMIN' (see readers.base._with_sub_headers): L and P.
    "sex_male_mark": (
        "l",
        "lk",
        "laki_laki",
        "jenis_kelamin_l",
        "jk_l",
        "jenis_kelamin_lk",
        "jenis_kelamin_laki_laki",
        "kelamin_l",
        "jk_lk",
    ),
    "sex_female_mark": (
        "p",
        "pr",
        "perempuan",
        "jenis_kelamin_p",
        "jk_p",
        "jenis_kelamin_pr",
        "jenis_kelamin_perempuan",
        "kelamin_p",
        "jk_pr",
    ),
    "birth_place": ("tempat_lahir", "tmp_lahir", "tempat_lhr", "tmplahir", "tmp_lhr", "tmpt_lahir", "tmpt_lhr"),
    "birth_date": ("tanggal_lahir", "tgl_lahir", "tgllahir", "tanggal_lhr", "tgl_lhr"),
    "birth_place_date": (
        "tempat_tgl_lahir",
        "tempat_tanggal_lahir",
        "ttl",
        "tempat_dan_tanggal_lahir",
        "tempat_tgl_lhr",
        "tmp_tgl_lahir",
        "tempat_lahir_tgl_lahir",
        "tempat_lahir_tanggal_lahir",
    ),
    "relationship": (
        "hubungan_keluarga",
        "hub_keluarga",
        "shdk",
        "hubungan_dengan_kepala_keluarga",
        "hub_dgn_kk",
        "hubungan_dgn_kepala_keluarga",
        "status_hubungan_dalam_keluarga",
        "hubungan",
        "hub_krt",  # DTKS and Regsosek extracts: the relationship to the household head, numbered BPS's way
        "hubungan_krt",
        "hubungan_dengan_krt",
        "hubungan_dengan_kepala_rumah_tangga",
        "hub_kel",
        "hubungan_dengan_kk",
        "hub_dengan_kk",
        "hubungan_dgn_kk",
    ),
    "mother_name": ("nama_ibu_kandung", "nama_ibu", "ibu_kandung"),
    "marital_status": ("status_perkawinan", "status_kawin", "sts_kawin", "sta_kawin", "stat_kawin", "perkawinan"),
    "education": ("pendidikan", "pendidikan_terakhir", "ijazah_tertinggi"),
    "occupation": ("pekerjaan", "jenis_pekerjaan", "pekerjaan_utama"),
    "disability": ("disabilitas", "penyandang_disabilitas", "difabel"),
    "street": ("alamat", "alamat_lengkap", "jalan", "alamat_domisili", "alamat_rumah", "alamat_ktp"),
    "rt": ("rt", "no_rt"),
    "rw": ("rw", "no_rw"),
    "rt_rw": ("rt_rw", "rtrw", "rt_dan_rw", "no_rt_rw"),
    "village": (
        "kode_desa",
        "kode_kelurahan",
        "kode_desa_kelurahan",
        "kode_wilayah",
        "kd_desa",
        "kode_kel",
        "kodedesa",
        "kode_desa_asal",
        "kode_desa_kemendagri",
        "kode_kemendagri",
    ),
    "desil_national": ("desil_nasional", "desil", "desil_kesejahteraan", "peringkat_desil"),
    "desil_province": ("desil_provinsi",),
    "desil_regency": ("desil_kabupaten", "desil_kab_kota", "desil_kota", "desil_kabkota", "desil_kab"),
    "welfare_date": ("tanggal_data", "tgl_data", "periode_data", "tanggal_pemutakhiran"),
    "tenure": ("status_kepemilikan_rumah", "kepemilikan_rumah", "status_rumah"),
    "floor_area_m2": ("luas_lantai_m2", "luas_lantai"),
    "floor": ("jenis_lantai", "lantai"),
    "wall": ("jenis_dinding", "dinding"),
    "roof": ("jenis_atap", "atap"),
    "drinking_water": ("sumber_air_minum", "air_minum"),
    "sanitation": ("fasilitas_bab", "fasilitas_buang_air_besar", "jamban"),
    "electricity": ("daya_listrik", "sumber_penerangan", "listrik"),
    "cooking_fuel": ("bahan_bakar_memasak", "bahan_bakar_masak"),
    "owns_car": ("aset_mobil", "mobil", "memiliki_mobil"),
    "motorcycles": ("aset_sepeda_motor", "sepeda_motor", "jumlah_sepeda_motor", "jumlah_motor", "motor"),
    "moved_date": ("tanggal_pindah", "tgl_pindah", "tanggal_kepindahan"),
    "destination": ("tujuan", "kode_desa_tujuan", "alamat_tujuan", "wilayah_tujuan", "daerah_tujuan"),
    "death_date": ("tanggal_meninggal", "tgl_meninggal", "tanggal_kematian", "tgl_kematian", "tanggal_wafat"),
    "exclusion": ("jenis_pengecualian", "pengecualian", "alasan_pengecualian", "kategori", "jenis_eksklusi"),
    "issuer": ("sumber", "sumber_data", "instansi", "penerbit"),
    "note": ("keterangan", "catatan", "ket"),
    "program": ("program", "nama_program", "jenis_bantuan", "bantuan", "kode_program"),
    "period": ("periode", "tahap", "periode_penyaluran", "bulan", "tahun_anggaran"),
    "amount": ("nominal", "jumlah_bantuan", "nilai_bantuan", "besaran", "nilai", "jumlah_rp"),
    "village_name": (
        "kelurahan",
        "desa",
        "desa_kelurahan",
        "nama_desa",
        "nama_kelurahan",
        "kelurahan_desa",
        "nama_desa_kelurahan",
        "desa_kel",
        "kel_desa",
    ),
    "district_name": ("kecamatan", "nama_kecamatan", "kec"),
    "action": ("jenis_usulan", "usulan", "aksi", "tindakan", "jenis_perubahan", "status_usulan", "usul"),
    "reason": ("alasan", "alasan_usulan", "alasan_perubahan", "alasan_keluar", "alasan_masuk"),
    "area": ("kode_kabupaten", "kode_kab_kota", "kode_kabkota", "kode_provinsi", "kode_area", "kode_daerah"),
    "indicator": ("indikator", "kode_indikator", "nama_indikator", "variabel"),
    "year": ("tahun", "tahun_data", "tahun_target"),
    "value": ("angka", "nilai_indikator", "capaian", "realisasi", "persentase", "value"),
    "target": ("target", "nilai_target", "sasaran", "target_rpjmd"),
    "comparison": ("pembanding", "arah_target", "operator"),
    "document": ("dokumen", "dokumen_perencanaan", "sumber_target"),
    "baseline_year": ("tahun_dasar", "tahun_baseline", "baseline_tahun"),
    "baseline_value": ("nilai_dasar", "baseline", "nilai_baseline"),
}
# The registry's own field names are labelled once, in registry.labels; these are the import-only fields.
FIELD_LABELS = {
    **{name: LABELS[name] for name in COLUMN_VARIANTS if name in LABELS},
    "record_id": _("ID baris di sumber"), "family_key": _("ID keluarga di sumber"),
    "household_key": _("ID rumah tangga di sumber"), "exclusion": _("Jenis pengecualian"),
    "issuer": _("Instansi sumber"), "note": _("Keterangan"), "program": _("Program"), "period": _("Periode"),
    "amount": _("Nominal (Rp)"), "village_name": _("Nama desa/kelurahan"), "district_name": _("Kecamatan"),
    "sex_male_mark": _("Jenis kelamin: kolom tanda L"), "sex_female_mark": _("Jenis kelamin: kolom tanda P"),
    "rt_rw": _("RT/RW dalam satu kolom"), "birth_place_date": _("Tempat/tanggal lahir dalam satu kolom"),
    "action": _("Jenis usulan"),
    "reason": _("Alasan usulan"), "moved_date": _("Tanggal pindah"), "destination": _("Tujuan pindah"),
    "area": _("Kode wilayah"), "indicator": _("Indikator"), "year": _("Tahun"),
    "value": _("Nilai"), "target": _("Nilai target"), "comparison": _("Arah target (<, <=, >=, >)"),
    "document": _("Dokumen perencanaan"), "baseline_year": _("Tahun dasar"), "baseline_value": _("Nilai dasar"),
}  # fmt: skip
_LOOKUP = {variant: canonical for canonical, variants in COLUMN_VARIANTS.items() for variant in variants}


def normalise_header(text: str) -> str:
    """`No. NIK ` → `no_nik`; `NOMOR INDUK KEPENDUDUKAN` → `nomor_induk_kependudukan`."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")


_HINT = re.compile(r"\(([^)]*)\)|\[([^\]]*)\]")
# What a bracket may say and still be a hint about the format: 'TGL LAHIR (dd/mm/yyyy)', 'JK [L/P]', 'NIK (16 digit)',
# 'No. KK (teks)'. 'DESA (KODE)' or 'NIK (KEPALA KELUARGA)' say which value it is: such a header is left to the user.
_FORMAT_HINT = re.compile(r"^[\s\d/.\-:dmyhlp]*$|digit|angka|teks|text|format|wajib|opsional|contoh|\bmis\b", re.I)


def field_of(header: str) -> str | None:
    """The canonical field a header names: its spelling, else its spelling without a format hint in brackets."""
    canonical = _LOOKUP.get(normalise_header(header))
    if canonical is None and ("(" in header or "[" in header):
        hints = [a or b for a, b in _HINT.findall(header)]
        if hints and all(_FORMAT_HINT.search(hint.strip()) for hint in hints):
            canonical = _LOOKUP.get(normalise_header(_HINT.sub(" ", header)))
    return canonical


def map_columns(headers: list[str]) -> dict[str, int]:
    """canonical field -> column index, first match wins (duplicated headers keep the left-most column)."""
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        canonical = field_of(header)
        if canonical and canonical not in mapping:
            mapping[canonical] = index
    return mapping
