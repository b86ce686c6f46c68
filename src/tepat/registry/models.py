"""The by-name-by-address registry: persons (NIK), families (KK), households, addresses, and their lineage.

Lineage has two parts. Every row carries ``lineage``: the id of the SourceRecord (file row of an import batch, or
a field submission) that set each field's current value, and ``created_batch``. A row an import creates takes all
its values from one record, named once under ``"*"`` (``{"*": 17}``); a value set later by another record is named
under its field (``{"*": 17, "name": 52}``), which wins over ``"*"`` (``source_of``). Every later change of a value
is a ``Change`` row with the old and new value, the source record or the user, and when. Together they answer
"where does this value come from?" and "what was it before?" without copying whole rows per import.

Rows written before ``"*"`` was used name each field; ``source_of`` reads both.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tepat.registry.fields import JSONText
from tepat.registry.querysets import FamilyQuerySet, PersonQuerySet


class SourceRecord(models.Model):
    """One row of one imported file, kept raw (values aligned with ``batch.columns``)."""

    # No database constraint on the batch (here and on Tracked.created_batch): these rows are written only by their
    # batch's own import, in bulk, and batches are never deleted (the ORM still applies on_delete). On PostgreSQL
    # each constraint is a trigger query per row at commit; a million-row list wrote about five million of them.
    batch = models.ForeignKey(  # indexed by (batch, row_number) below
        "intake.ImportBatch", on_delete=models.CASCADE, related_name="records", db_constraint=False, db_index=False
    )
    row_number = models.PositiveIntegerField(help_text=_("Nomor baris di berkas (baris judul = 1)."))
    sheet = models.CharField(max_length=100, blank=True)
    values = JSONText()

    class Meta:
        indexes = [models.Index(fields=["batch", "row_number"])]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_number}"

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(self.batch.columns, self.values, strict=False))


# Identifiers (NIK, KK, a source's keys) are compared byte by byte in their indexes (PostgreSQL's pattern operator
# class: equality and IN, which is all anything asks of them) instead of by the database's language collation: a
# million NIKs index in half the time (1.7 -> 0.8 s), and every import inserts into these indexes. Other databases
# ignore it.
IDENTIFIER = "varchar_pattern_ops"

WHOLE_ROW = "*"  # the lineage key of the record a row was created from: the source of every field not named


def source_of(lineage: dict[str, Any], name: str, value: Any) -> int | None:
    """The id of the SourceRecord that set field ``name``'s current ``value``, from a row's lineage; None for a
    value not given (the record a row was created from, ``"*"``, gave nothing for it)."""
    if value is None or value == "":
        return None
    return lineage.get(name, lineage.get(WHOLE_ROW))


class Tracked(models.Model):
    lineage = JSONText(default=dict, blank=True)
    # Not indexed: only rolling a batch back looks rows up by it (a scan of each table, rare and short), while an
    # index on four tables cost every import: about a second of a million-row first load's rebuild, and a b-tree
    # insert per row on every later one.
    created_batch = models.ForeignKey(
        "intake.ImportBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def source_record_id(self, name: str) -> int | None:
        """The id of the SourceRecord that set field ``name``'s current value (see ``source_of``). An identifier's
        value is what the source wrote (``nik_raw``: an invalid NIK is stored as nothing); a relation's is its id."""
        column = getattr(self._meta.get_field(name), "attname", name)
        value = getattr(self, f"{name}_raw", None) or getattr(self, column)
        return source_of(self.lineage, name, value)


class Sex(models.TextChoices):
    MALE = "L", _("Laki-laki")
    FEMALE = "P", _("Perempuan")


class VitalStatus(models.TextChoices):
    ALIVE = "alive", _("Hidup")
    DECEASED = "deceased", _("Meninggal")
    MOVED_OUT = "moved_out", _("Pindah keluar")


class Person(Tracked):
    # null, not '': "no usable NIK" must never equal another person's "no usable NIK"
    nik = models.CharField(  # noqa: DJ001
        max_length=16, null=True, blank=True, help_text=_("NIK ternormalisasi")
    )
    nik_raw = models.CharField(max_length=64, blank=True, help_text=_("NIK seperti tertulis di sumber"))
    nik_valid = models.BooleanField(default=False)
    nik_problems = JSONText(default=list, blank=True)
    name = models.CharField(max_length=200)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    birth_place = models.CharField(max_length=100, blank=True)
    birth_date = models.DateField(null=True, blank=True)
    mother_name = models.CharField(max_length=200, blank=True)
    marital_status = models.CharField(max_length=40, blank=True)
    education = models.CharField(max_length=60, blank=True)
    occupation = models.CharField(max_length=80, blank=True)
    disability = models.BooleanField(null=True, blank=True)
    vital_status = models.CharField(max_length=10, choices=VitalStatus.choices, default=VitalStatus.ALIVE)
    death_date = models.DateField(null=True, blank=True)
    moved_date = models.DateField(null=True, blank=True)
    # Set when record linkage found this person to be another one (linkage.PersonMerge holds the why and the undo).
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("orang")
        verbose_name_plural = _("orang")
        # The dashboard's "findings" counts families with a member recorded dead: a small partial index. Identifiers
        # are indexed here rather than with db_index, which on PostgreSQL adds a second (LIKE) index to every
        # CharField, and nothing searches identifiers by prefix: one more index for every import to keep.
        indexes = [
            models.Index(fields=["id"], condition=Q(vital_status="deceased"), name="person_deceased"),
            models.Index(fields=["nik"], name="person_nik", opclasses=[IDENTIFIER]),
            # almost every person is merged into nobody: those are not indexed
            models.Index(fields=["merged_into"], condition=Q(merged_into__isnull=False), name="person_merged_into"),
        ]

    def __str__(self) -> str:
        return self.name


class Address(models.Model):
    # No database constraint on the village (here and on Family.village): every writer takes the code from the
    # areas it has read (an import rejects a row whose village is not one of them), and areas are reference data,
    # added to and never deleted (the ORM still protects them). On PostgreSQL the constraint was a trigger query
    # per row, locking the village's area row: 570,000 of them, a sixth of the server's work, for a million-row
    # list; and it cannot be dropped for the load, which would lock the areas (read by every page) until the commit.
    # Indexed in Meta, not with db_index: the key is the area's code, and PostgreSQL would add a LIKE twin.
    village = models.ForeignKey(
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_constraint=False, db_index=False
    )
    rt = models.CharField(max_length=3, blank=True)
    rw = models.CharField(max_length=3, blank=True)
    street = models.CharField(max_length=255, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("alamat")
        verbose_name_plural = _("alamat")
        indexes = [models.Index(fields=["village"], name="address_village")]

    def __str__(self) -> str:
        parts = [self.street]
        if self.rt:
            parts.append(f"RT {self.rt}")
        if self.rw:
            parts.append(f"RW {self.rw}")
        return ", ".join(p for p in parts if p)


# The housing conditions a household carries, in the order lists, rules and pages name them.
HOUSING_FIELDS = ("tenure", "floor_area_m2", "floor", "wall", "roof", "drinking_water", "sanitation", "electricity",
                  "cooking_fuel", "owns_car", "motorcycles")  # fmt: skip


class Household(Tracked):
    """A dwelling (rumah tangga): one or more families under one roof, sharing the housing conditions."""

    source_key = models.CharField(max_length=64, blank=True)
    address = models.ForeignKey(Address, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tenure = models.CharField(max_length=40, blank=True)
    floor_area_m2 = models.FloatField(null=True, blank=True)
    floor = models.CharField(max_length=40, blank=True)
    wall = models.CharField(max_length=40, blank=True)
    roof = models.CharField(max_length=40, blank=True)
    drinking_water = models.CharField(max_length=40, blank=True)
    sanitation = models.CharField(max_length=40, blank=True)
    electricity = models.CharField(max_length=20, blank=True)
    cooking_fuel = models.CharField(max_length=40, blank=True)
    owns_car = models.BooleanField(null=True, blank=True)
    motorcycles = models.PositiveSmallIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"RT {self.source_key or self.pk}"

    class Meta:
        verbose_name = _("rumah tangga")
        verbose_name_plural = _("rumah tangga")
        indexes = [models.Index(fields=["source_key"], name="household_source_key", opclasses=[IDENTIFIER])]


class FamilyStatus(models.TextChoices):
    ACTIVE = "active", _("Aktif")
    RETIRED = "retired", _("Tidak aktif")


class Family(Tracked):
    kk = models.CharField(  # noqa: DJ001
        max_length=16, null=True, blank=True, help_text=_("Nomor KK ternormalisasi")
    )
    kk_raw = models.CharField(max_length=64, blank=True)
    kk_valid = models.BooleanField(default=False)
    kk_problems = JSONText(default=list, blank=True)
    source_key = models.CharField(max_length=64, blank=True, help_text=_("ID keluarga di sumber"))
    household = models.ForeignKey(Household, null=True, blank=True, on_delete=models.PROTECT, related_name="families")
    address = models.ForeignKey(Address, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Denormalised from the address: every selector filters on it, so it must be one indexed column. Its indexes
    # are the composite ones below, which lead with it: a plain one as well would be one more for imports to keep.
    village = models.ForeignKey(  # no database constraint: see Address.village
        "areas.Area", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    status = models.CharField(max_length=10, choices=FamilyStatus.choices, default=FamilyStatus.ACTIVE)
    # The official desil as imported from DTSEN; the region never computes or overwrites it (Inpres 4/2025).
    desil_national = models.PositiveSmallIntegerField(null=True, blank=True, db_index=True)
    desil_province = models.PositiveSmallIntegerField(null=True, blank=True)
    desil_regency = models.PositiveSmallIntegerField(null=True, blank=True)
    welfare_date = models.DateField(null=True, blank=True, help_text=_("Tanggal data desil"))

    objects = FamilyQuerySet.as_manager()

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        indexes = [
            models.Index(fields=["village", "desil_national"]),
            # A village's family list pages in (village, id) order over active families (bench/web.py).
            models.Index(fields=["village", "id"], condition=Q(status="active"), name="family_active_village_id"),
            models.Index(fields=["kk"], name="family_kk", opclasses=[IDENTIFIER]),  # identifiers: see Person.Meta
            models.Index(fields=["source_key"], name="family_source_key", opclasses=[IDENTIFIER]),
        ]

    def __str__(self) -> str:
        return f"KK {self.kk or self.kk_raw or self.pk}"


class Relationship(models.TextChoices):
    HEAD = "kepala", _("Kepala keluarga")
    WIFE = "istri", _("Istri")
    HUSBAND = "suami", _("Suami")
    CHILD = "anak", _("Anak")
    CHILD_IN_LAW = "menantu", _("Menantu")
    GRANDCHILD = "cucu", _("Cucu")
    PARENT = "orang_tua", _("Orang tua")
    PARENT_IN_LAW = "mertua", _("Mertua")
    OTHER_RELATIVE = "famili_lain", _("Famili lain")
    OTHER = "lainnya", _("Lainnya")


class Membership(Tracked):
    """A person in a family (KK). At most one active membership per person: the database enforces it.

    When a source lists a NIK in a second KK, that membership is stored inactive with ``conflict`` set and a
    RegistryFlag is raised, so the second listing is kept for review instead of being dropped or winning silently.
    """

    # No index of its own: the (family, person) constraint leads with it, and a family's few members are sorted by
    # position once read (an index on (family, position) cost a million-row load 0.6 s and gave nothing).
    family = models.ForeignKey(Family, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    relationship = models.CharField(max_length=12, choices=Relationship.choices, blank=True)
    position = models.PositiveSmallIntegerField(default=0, help_text=_("Urutan di KK"))
    active = models.BooleanField(default=True)
    conflict = models.BooleanField(default=False)
    ended_on = models.DateField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.person_id} in {self.family_id}"

    class Meta:
        verbose_name = _("anggota keluarga")
        verbose_name_plural = _("anggota keluarga")
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=Q(active=True), name="one_active_family_per_person"),
            models.UniqueConstraint(fields=["family", "person"], name="person_once_per_family"),
        ]


class FlagKind(models.TextChoices):
    NIK_INVALID = "nik_invalid", _("NIK tidak valid")
    NIK_TWO_FAMILIES = "nik_two_families", _("NIK tercatat di dua KK aktif")
    NIK_NAME_CONFLICT = "nik_name_conflict", _("Satu NIK dengan nama berbeda")
    KK_INVALID = "kk_invalid", _("Nomor KK tidak valid")
    NAME_EMPTY = "name_empty", _("Nama kosong")
    FIELD_FINDING = "field_finding", _("Temuan kunjungan lapangan")


class RegistryFlag(models.Model):
    """A finding about registry data that a person must look at. Never deletes or hides the data it is about."""

    kind = models.CharField(max_length=24, choices=FlagKind.choices, db_index=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    family = models.ForeignKey(Family, null=True, blank=True, on_delete=models.CASCADE, related_name="flags")
    source_record = models.ForeignKey(SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey("intake.ImportBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.person_id or self.family_id}"

    class Meta:
        verbose_name = _("temuan data")
        verbose_name_plural = _("temuan data")


class ExclusionKind(models.TextChoices):
    """BPK's exclusion flags: people who should not receive social assistance (LHP BPK on DTKS)."""

    CIVIL_SERVANT = "asn", _("ASN (PNS/PPPK)")
    MILITARY_POLICE = "tni_polri", _("TNI/Polri")
    CERTIFIED_TEACHER = "guru_sertifikasi", _("Guru bersertifikasi")
    PLN_900VA = "pln_900va_nonsubsidi", _("Pelanggan PLN ≥ 900 VA nonsubsidi")
    CAR_OWNER = "pemilik_mobil", _("Pemilik mobil")
    WAGE_ABOVE_MINIMUM = "upah_di_atas_umk", _("Upah di atas UMK")
    VILLAGE_OFFICIAL = "perangkat_desa", _("Perangkat desa")
    BUSINESS_OWNER = "pengusaha", _("Pengusaha terdaftar")


class Exclusion(models.Model):
    """A custodian says this NIK should be excluded for this reason. Kept by NIK even when the person is not (yet)
    in the registry: the next import that brings the person links it."""

    nik = models.CharField(max_length=16, db_index=True)
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="exclusions")
    kind = models.CharField(max_length=24, choices=ExclusionKind.choices)
    issuer = models.CharField(max_length=100, blank=True)
    note = models.CharField(max_length=200, blank=True)
    source_record = models.ForeignKey(SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    batch = models.ForeignKey("intake.ImportBatch", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("temuan pengecualian")
        verbose_name_plural = _("temuan pengecualian")

    def __str__(self) -> str:
        return f"{self.nik} {self.kind}"


class Change(models.Model):
    """One value changed: append-only history of the registry."""

    entity = models.CharField(max_length=20)
    entity_id = models.BigIntegerField()
    field = models.CharField(max_length=40)
    old = models.JSONField(null=True)
    new = models.JSONField(null=True)
    source_record = models.ForeignKey(SourceRecord, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    old_source_record = models.ForeignKey(
        SourceRecord,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the row that had set the old value: a rollback restores the lineage with it",
    )
    batch = models.ForeignKey("intake.ImportBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.entity}:{self.entity_id}.{self.field}"

    class Meta:
        indexes = [models.Index(fields=["entity", "entity_id"])]
        ordering = ["-at", "-id"]
