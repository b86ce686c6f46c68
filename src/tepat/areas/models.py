"""Kemendagri regions: province → regency/city → district → village, with boundaries.

The dotted Kemendagri code (``64.74.03.1002``) is the primary key. Its segments have fixed widths (2, 2, 2, 4),
so "everything inside an area" is a prefix test on the code; this is what area scoping of users builds on.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    PROVINCE = 1, _("Provinsi")
    REGENCY = 2, _("Kabupaten/Kota")
    DISTRICT = 3, _("Kecamatan")
    VILLAGE = 4, _("Desa/Kelurahan")


class Kind(models.TextChoices):
    PROVINCE = "provinsi", _("Provinsi")
    REGENCY = "kabupaten", _("Kabupaten")
    CITY = "kota", _("Kota")
    DISTRICT = "kecamatan", _("Kecamatan")
    KELURAHAN = "kelurahan", _("Kelurahan")
    DESA = "desa", _("Desa")


CODE_LENGTHS = {Level.PROVINCE: 2, Level.REGENCY: 5, Level.DISTRICT: 8, Level.VILLAGE: 13}


def ancestor_codes(code: str) -> list[str]:
    """The code itself and every area above it, province first: `64.74.03` → `64`, `64.74`, `64.74.03`."""
    return [code[:n] for n in CODE_LENGTHS.values() if n <= len(code)]


class Area(models.Model):
    code = models.CharField(max_length=13, primary_key=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField(choices=Level.choices, db_index=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["code"]
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def label(self) -> str:
        """How people write the area: 'Kelurahan Gunung Telihan', 'Kota Bontang' (regency names carry it)."""
        if self.level in (Level.PROVINCE, Level.REGENCY):
            return self.name
        return f"{self.get_kind_display()} {self.name}"


class Boundary(models.Model):
    """An area's outline as GeoJSON text in WGS84, so SQLite and PostgreSQL store it alike (PostGIS optional).

    The bounding box and a point guaranteed inside the polygon are kept as plain columns: maps zoom to them and
    point-in-area queries pre-filter on them without a spatial index.
    """

    area = models.OneToOneField(Area, primary_key=True, on_delete=models.CASCADE, related_name="boundary")
    geojson = models.TextField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()
    point_lon = models.FloatField()
    point_lat = models.FloatField()
    area_km2 = models.FloatField()
    source = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"boundary {self.area_id}"

    class Meta:
        verbose_name = _("batas wilayah")
        verbose_name_plural = _("batas wilayah")
