"""What registry fields are called on screen: one table for the family page, the import report and the
column-mapping form."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

LABELS: dict[str, Any] = {
    # person
    "nik": _("NIK"), "name": _("Nama"), "sex": _("Jenis kelamin"), "birth_place": _("Tempat lahir"),
    "birth_date": _("Tanggal lahir"), "mother_name": _("Nama ibu kandung"), "marital_status": _("Status perkawinan"),
    "education": _("Pendidikan"), "occupation": _("Pekerjaan"), "disability": _("Disabilitas"),
    "relationship": _("Hubungan keluarga"), "death_date": _("Tanggal meninggal"),
    # family and address
    "kk": _("No. KK"), "desil_national": _("Desil nasional"), "desil_province": _("Desil provinsi"),
    "desil_regency": _("Desil kabupaten/kota"), "welfare_date": _("Tanggal data desil"), "address": _("Alamat"),
    "street": _("Alamat"), "rt": _("RT"), "rw": _("RW"), "village": _("Kode desa/kelurahan"),
    # household
    "tenure": _("Status kepemilikan rumah"), "floor_area_m2": _("Luas lantai (m²)"), "floor": _("Jenis lantai"),
    "wall": _("Jenis dinding"), "roof": _("Jenis atap"), "drinking_water": _("Sumber air minum"),
    "sanitation": _("Fasilitas BAB"), "electricity": _("Daya listrik"), "cooking_fuel": _("Bahan bakar memasak"),
    "owns_car": _("Memiliki mobil"), "motorcycles": _("Jumlah sepeda motor"),
}  # fmt: skip


def labels(*names: str) -> dict[str, Any]:
    return {name: LABELS[name] for name in names}
