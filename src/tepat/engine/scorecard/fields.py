"""The family table: the columns scorecards and eligibility rules may name, and the vocabularies they use.

Canonical names are English like the registry's model fields; every field also has its Indonesian name (the
DTSEN extract's column where there is one), so `jenis_lantai == "Tanah"` and `floor == "Tanah"` are the same rule.
Labels are Indonesian; the web application translates them (tepat.targeting.texts).
"""

from __future__ import annotations

from tepat.engine.rules import FieldSpec, Schema

FLOOR = (
    "Tanah",
    "Bambu",
    "Kayu/papan",
    "Semen",
    "Semen/bata merah",
    "Plesteran",
    "Ubin/tegel",
    "Keramik",
    "Parket/vinil",
    "Marmer/granit",
    "Lainnya",
)
WALL = (
    "Bambu",
    "Anyaman bambu",
    "Kawat",
    "Terpal",
    "Kardus",
    "Rumbia",
    "Seng",
    "Kayu/papan",
    "Tembok tanpa plester",
    "Tembok",
    "Lainnya",
)
ROOF = ("Daun/rumbia", "Ijuk", "Jerami", "Bambu", "Kayu/sirap", "Seng", "Asbes", "Genteng", "Beton", "Lainnya")
WATER = (
    "Air hujan",
    "Air sungai/danau",
    "Mata air tak terlindung",
    "Sumur tak terlindung",
    "Mata air terlindung",
    "Sumur terlindung",
    "Sumur bor/pompa",
    "Ledeng",
    "Air isi ulang",
    "Air kemasan bermerk",
    "Lainnya",
)
SANITATION = ("Tidak ada", "Umum", "Bersama", "Sendiri")
ELECTRICITY = ("Tanpa listrik", "Listrik non-PLN", "450 VA", "900 VA", "1300 VA", "2200 VA", ">2200 VA")
COOKING_FUEL = ("Kayu bakar", "Arang", "Minyak tanah", "Gas 3 kg", "Gas 5.5 kg+", "Listrik", "Tidak memasak")
TENURE = ("Milik sendiri", "Kontrak", "Sewa", "Bebas sewa", "Dinas", "Lainnya")
EDUCATION_LEVELS: dict[str, int] = {
    # highest schooling completed → 0 none, 1 SD, 2 SMP, 3 SMA, 4 diploma, 5 degree (Dukcapil and BPS spellings)
    **dict.fromkeys(
        (
            "tidak/belum sekolah",
            "tidak sekolah",
            "belum sekolah",
            "tidak tamat sd",
            "tidak tamat sd/sederajat",
            "belum tamat sd/sederajat",
            "tidak/belum tamat sd",
        ),
        0,
    ),
    **dict.fromkeys(("sd", "sd/sederajat", "tamat sd", "tamat sd/sederajat", "sd/mi", "paket a"), 1),
    **dict.fromkeys(("smp", "sltp", "smp/sederajat", "sltp/sederajat", "smp/mts", "paket b"), 2),
    **dict.fromkeys(("sma", "slta", "smk", "sma/sederajat", "slta/sederajat", "sma/smk/ma", "paket c"), 3),
    **dict.fromkeys(("d1-d3", "d1", "d2", "d3", "diploma i/ii", "akademi/diploma iii/s. muda", "diploma"), 4),
    **dict.fromkeys(("s1+", "s1", "d4", "diploma iv/strata i", "s2", "s3", "strata ii", "strata iii"), 5),
}
NOT_WORKING = frozenset(("tidak bekerja", "belum/tidak bekerja", "tidak/belum bekerja", "mengurus rumah tangga"))
NOT_EARNING = NOT_WORKING | {"pelajar/mahasiswa", "pensiunan"}

_F = FieldSpec
FAMILY_FIELDS: tuple[FieldSpec, ...] = (
    _F("family_id", "text", "ID keluarga", ("id_keluarga",)),
    _F("kode_desa", "text", "Kode desa/kelurahan", ("village_code", "desa")),
    _F("kode_kecamatan", "text", "Kode kecamatan", ("district_code",)),
    _F("kode_kabupaten", "text", "Kode kabupaten/kota", ("regency_code",)),
    _F("desil", "number", "Desil nasional (resmi)", ("desil_nasional", "desil_national")),
    _F("desil_provinsi", "number", "Desil provinsi (resmi)", ("desil_province",)),
    _F("desil_kabupaten", "number", "Desil kabupaten/kota (resmi)", ("desil_regency",)),
    _F("extreme_poor", "bool", "Miskin ekstrem", ("miskin_ekstrem",)),
    _F("local_score", "number", "Skor lokal (0-1, makin tinggi makin miskin)", ("skor_lokal",)),
    _F("local_desil", "number", "Desil lokal dalam wilayah", ("desil_lokal",)),
    _F("members", "number", "Jumlah anggota keluarga", ("jumlah_anggota",)),
    _F("household_members", "number", "Jumlah penghuni rumah", ("jumlah_penghuni",)),
    _F("children_under_5", "number", "Balita (0-4 tahun)", ("balita",)),
    _F("school_age_children", "number", "Anak usia sekolah (7-18 tahun)", ("anak_usia_sekolah",)),
    _F("children_out_of_school", "number", "Anak usia sekolah yang tidak bersekolah", ("anak_tidak_sekolah",)),
    _F("elderly", "number", "Lansia (60 tahun ke atas)", ("lansia",)),
    _F("disabled_members", "number", "Anggota dengan disabilitas", ("anggota_disabilitas",)),
    _F("working_members", "number", "Anggota yang bekerja", ("anggota_bekerja",)),
    _F(
        "max_education_level",
        "number",
        "Pendidikan tertinggi anggota 15+ (0 tidak sekolah … 5 S1+)",
        ("pendidikan_tertinggi",),
    ),
    _F("female_head", "bool", "Kepala keluarga perempuan", ("kepala_perempuan",)),
    _F("head_age", "number", "Umur kepala keluarga", ("umur_kepala",)),
    _F("head_education", "text", "Pendidikan kepala keluarga", ("pendidikan_kepala",)),
    _F(
        "head_education_level",
        "number",
        "Tingkat pendidikan kepala (0 tidak sekolah … 5 S1+)",
        ("tingkat_pendidikan_kepala",),
    ),
    _F("head_occupation", "text", "Pekerjaan kepala keluarga", ("pekerjaan_kepala",)),
    _F("head_not_working", "bool", "Kepala keluarga tidak bekerja", ("kepala_tidak_bekerja",)),
    _F("tenure", "text", "Status kepemilikan rumah", ("status_kepemilikan_rumah",), TENURE),
    _F("floor_area_m2", "number", "Luas lantai (m²)", ("luas_lantai_m2", "luas_lantai")),
    _F("floor_area_per_person", "number", "Luas lantai per penghuni (m²)", ("luas_lantai_per_orang",)),
    _F("floor", "text", "Jenis lantai terluas", ("jenis_lantai",), FLOOR),
    _F("wall", "text", "Jenis dinding terluas", ("jenis_dinding",), WALL),
    _F("roof", "text", "Jenis atap terluas", ("jenis_atap",), ROOF),
    _F("drinking_water", "text", "Sumber air minum", ("sumber_air_minum",), WATER),
    _F("sanitation", "text", "Fasilitas buang air besar", ("fasilitas_bab",), SANITATION),
    _F("electricity", "text", "Sumber penerangan / daya listrik", ("daya_listrik",), ELECTRICITY),
    _F("cooking_fuel", "text", "Bahan bakar memasak", ("bahan_bakar_memasak",), COOKING_FUEL),
    _F("owns_car", "bool", "Memiliki mobil", ("aset_mobil",)),
    _F("motorcycles", "number", "Jumlah sepeda motor", ("aset_sepeda_motor",)),
    # Collected by field verification or a survey, not in the DTSEN extract: indicators that use them are skipped
    # when the family table does not have the column.
    _F("homeless", "bool", "Tidak memiliki tempat berteduh/tinggal", ("tunawisma", "tidak_punya_tempat_tinggal")),
    _F("food_insecure", "bool", "Pernah khawatir/tidak makan setahun terakhir", ("rawan_pangan",)),
    _F("food_share", "number", "Pangsa pengeluaran makanan (0-1)", ("pangsa_pangan",)),
    _F("no_clothing_spending", "bool", "Tidak membeli pakaian setahun terakhir", ("tanpa_belanja_pakaian",)),
    _F("meals_per_day", "number", "Frekuensi makan per hari", ("frekuensi_makan",)),
    _F("protein_weekly", "bool", "Makan daging/ayam/susu lebih dari sekali seminggu", ("konsumsi_protein",)),
    _F("can_pay_health_care", "bool", "Sanggup membayar berobat ke puskesmas", ("mampu_berobat",)),
    _F("health_insurance", "bool", "Memiliki jaminan kesehatan (JKN)", ("jaminan_kesehatan", "jkn")),
    _F("savings_500k", "bool", "Memiliki tabungan/barang mudah dijual ≥ Rp500.000", ("tabungan_500rb",)),
    # Exclusion findings of the data custodians (BPK's flags on DTKS), true when any member has one.
    _F("flag.civil_servant", "bool", "ASN (PNS/PPPK)", ("flag.asn",)),
    _F("flag.military_police", "bool", "TNI/Polri", ("flag.tni_polri",)),
    _F("flag.certified_teacher", "bool", "Guru bersertifikasi", ("flag.guru_sertifikasi",)),
    _F("flag.pln_900va", "bool", "Pelanggan PLN ≥ 900 VA nonsubsidi", ("flag.pln_900va_nonsubsidi",)),
    _F("flag.car_owner", "bool", "Pemilik mobil", ("flag.pemilik_mobil",)),
    _F("flag.wage_above_minimum", "bool", "Upah di atas UMK", ("flag.upah_di_atas_umk",)),
    _F("flag.village_official", "bool", "Perangkat desa", ("flag.perangkat_desa",)),
    _F("flag.business_owner", "bool", "Pengusaha terdaftar", ("flag.pengusaha",)),
    _F("flag.any", "bool", "Ada temuan pengecualian apa pun", ("flag.ada",)),
)
FAMILY_SCHEMA = Schema(FAMILY_FIELDS)
# Exclusion kinds as the registry and the exclusion lists name them → the family table's flag column.
EXCLUSION_FLAGS = {
    "asn": "flag.civil_servant",
    "tni_polri": "flag.military_police",
    "guru_sertifikasi": "flag.certified_teacher",
    "pln_900va_nonsubsidi": "flag.pln_900va",
    "pemilik_mobil": "flag.car_owner",
    "upah_di_atas_umk": "flag.wage_above_minimum",
    "perangkat_desa": "flag.village_official",
    "pengusaha": "flag.business_owner",
}
