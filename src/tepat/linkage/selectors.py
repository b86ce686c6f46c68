"""Reads of the linkage and data-quality findings, scoped by the acting user's area and role."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.linkage.models import LinkageRun, MatchPair, PairStatus, PersonMerge
from tepat.programs.models import Benefit
from tepat.registry.models import Exclusion, Family, FamilyStatus, FlagKind, Membership, Person, RegistryFlag

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser

# The audit categories (DOMAIN.md: BPK on DTKS), in the order the page and the export list them.
CATEGORIES: dict[str, Any] = {
    "nik_invalid": _("NIK tidak valid"),
    "kk_invalid": _("No. KK tidak valid"),
    "name_empty": _("Nama kosong"),
    "nik_conflict": _("NIK sama, orang berbeda"),
    "several_niks": _("Satu orang dengan beberapa NIK"),
    "two_families": _("NIK di lebih dari satu KK aktif"),
    "kk_district": _("Kode wilayah KK ≠ kecamatan domisili"),
    "dead": _("Meninggal (daftar kematian)"),
    "moved": _("Pindah keluar daerah"),
    "duplicates_review": _("Calon ganda menunggu peninjauan"),
    "asn": _("ASN"),
    "tni_polri": _("TNI/Polri"),
    "guru_sertifikasi": _("Guru bersertifikasi"),
    "pln_900va_nonsubsidi": _("PLN ≥ 900 VA nonsubsidi"),
    "pemilik_mobil": _("Pemilik mobil"),
    "upah_di_atas_umk": _("Upah di atas UMK"),
    "perangkat_desa": _("Perangkat desa"),
    "pengusaha": _("Pengusaha terdaftar"),
}


def _visible_people(actor: Actor) -> QuerySet[Person] | None:
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_PERSONS):
        return None
    return Person.objects.filter(within_q(scope, field="memberships__family__village__code"))


# -- review queue --------------------------------------------------------------------------------------------------
@dataclass
class Side:
    person: Person
    nik: str
    village: str
    family_id: int | None
    kk: str


@dataclass
class ReviewRow:
    pair: MatchPair
    a: Side
    b: Side


def latest_run() -> LinkageRun | None:
    return LinkageRun.objects.order_by("-created_at").first()


def review_queue(*, actor: Actor, limit: int = 50) -> tuple[list[ReviewRow], int]:
    """Open pairs where the actor may see both persons, most likely first; and how many are open in all."""
    visible = _visible_people(actor)
    if visible is None:
        return [], 0
    pending = MatchPair.objects.filter(status=PairStatus.PENDING, person_b__isnull=False).filter(
        person_a__in=visible.values("pk"), person_b__in=visible.values("pk")
    )
    total = pending.count()
    pairs = list(pending.select_related("person_a", "person_b").order_by("-probability", "pk")[:limit])
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    person_ids = [p.person_a_id for p in pairs] + [p.person_b_id for p in pairs if p.person_b_id is not None]
    homes: dict[int, tuple[int, str, str]] = {}
    for person_id, family_id, village, kk in (
        Membership.objects.filter(person_id__in=person_ids).order_by("active", "pk")
        .values_list("person_id", "family_id", "family__village__name", "family__kk")
    ):  # fmt: skip
        homes[person_id] = (family_id, village, kk or "")

    def side(person: Person) -> Side:
        family_id, village, kk = homes.get(person.pk, (None, "", ""))
        shown = person.nik or person.nik_raw
        return Side(person, shown if full else mask_nik(shown), village, family_id, kk if full else mask_nik(kk))

    return [ReviewRow(p, side(p.person_a), side(p.person_b)) for p in pairs if p.person_b is not None], total


def merge_list(*, actor: Actor, limit: int = 50) -> list[PersonMerge]:
    visible = _visible_people(actor)
    if visible is None:
        return []
    return list(
        PersonMerge.objects.filter(survivor__in=visible.values("pk"))
        .select_related("survivor", "merged", "actor")
        .order_by("-created_at")[:limit]
    )


# -- data-quality findings -----------------------------------------------------------------------------------------
@dataclass
class QualityRow:
    area: Area
    families: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def _district(code: str) -> str:
    return f"{code[:2]}.{code[2:4]}.{code[4:6]}"


def quality_by_area(*, actor: Actor) -> tuple[QualityRow, list[QualityRow]] | None:
    """Counts of each audit category per village of the actor's area (and the total), from one query per source."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    root = Area.objects.filter(code=scope).first()
    if root is None:
        return None
    villages = {a.code: QualityRow(a) for a in Area.objects.filter(within_q(scope), level=Level.VILLAGE)}
    total = QualityRow(root)

    def add(village: str | None, category: str, n: int) -> None:
        if village in villages and n:
            villages[village].counts[category] += n
            total.counts[category] += n

    families = Family.objects.filter(within_q(scope, field="village__code"), status=FamilyStatus.ACTIVE)
    for village, n, kk_invalid in families.values_list("village_id").annotate(
        n=Count("id"), bad=Count("id", filter=Q(kk_valid=False))
    ):
        if village in villages:
            villages[village].families += n
        total.families += n
        add(village, "kk_invalid", kk_invalid)
    for village, kk in families.filter(kk_valid=True).values_list("village_id", "kk"):
        if kk and _district(kk) != village[:8]:
            add(village, "kk_district", 1)
    members = Membership.objects.filter(
        within_q(scope, field="family__village__code"), active=True, person__merged_into__isnull=True
    )
    for village, nik_invalid, name_empty, dead, moved in members.values_list("family__village_id").annotate(
        a=Count("id", filter=Q(person__nik_valid=False)),
        b=Count("id", filter=Q(person__name="")),
        c=Count("id", filter=Q(person__vital_status="deceased")),
        d=Count("id", filter=Q(person__vital_status="moved_out")),
    ):
        add(village, "nik_invalid", nik_invalid)
        add(village, "name_empty", name_empty)
        add(village, "dead", dead)
        add(village, "moved", moved)
    flags = RegistryFlag.objects.filter(within_q(scope, field="family__village__code"), resolved_at__isnull=True)
    kinds = {FlagKind.NIK_TWO_FAMILIES: "two_families", FlagKind.NIK_NAME_CONFLICT: "nik_conflict"}
    for village, kind, n in (
        flags.filter(kind__in=list(kinds)).values_list("family__village_id", "kind").annotate(n=Count("id"))
    ):
        add(village, kinds[FlagKind(kind)], n)
    exclusions = Exclusion.objects.filter(
        within_q(scope, field="person__memberships__family__village__code"), person__memberships__active=True
    )
    for village, kind, n in exclusions.values_list("person__memberships__family__village_id", "kind").annotate(
        n=Count("person", distinct=True)
    ):
        add(village, kind, n)
    home = dict(members.values_list("person_id", "family__village_id"))
    open_pairs = MatchPair.objects.filter(status__in=[PairStatus.PENDING, PairStatus.CONFLICT], person_b__isnull=False)
    for pair in open_pairs.select_related("person_a", "person_b"):
        if pair.person_b is None:
            continue
        village = home.get(pair.person_a_id) or home.get(pair.person_b.pk)
        if pair.status == PairStatus.CONFLICT:
            add(village, "nik_conflict", 1)
        else:
            add(village, "duplicates_review", 1)
            a, b = pair.person_a, pair.person_b
            if a.nik_valid and b.nik_valid and a.nik != b.nik:
                add(village, "several_niks", 1)
    return total, [row for row in sorted(villages.values(), key=lambda r: r.area.code) if row.families]


@dataclass
class ProgramQuality:
    program: str
    recipients: int = 0
    counts: Counter[str] = field(default_factory=Counter)


def quality_by_program(*, actor: Actor) -> list[ProgramQuality]:
    """Recipients of each program and how many of them carry each finding (the audit's 'aid to the ineligible')."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return []
    people = Person.objects.filter(within_q(scope, field="memberships__family__village__code")).values("pk")
    benefits = Benefit.objects.filter(within_q(scope, field="village__code") | Q(person__in=people))
    rows: dict[str, ProgramQuality] = {}
    for code, total, unknown, dead, moved in benefits.values_list("program__code").annotate(
        n=Count("id", distinct=True),
        a=Count("id", filter=Q(person__isnull=True), distinct=True),
        b=Count("id", filter=Q(person__vital_status="deceased"), distinct=True),
        c=Count("id", filter=Q(person__vital_status="moved_out"), distinct=True),
    ):
        row = rows.setdefault(code, ProgramQuality(code))
        row.recipients = total
        row.counts.update({"not_in_registry": unknown, "dead": dead, "moved": moved})
    for code, kind, n in (
        benefits.filter(person__exclusions__isnull=False)
        .values_list("program__code", "person__exclusions__kind").annotate(n=Count("id", distinct=True))
    ):  # fmt: skip
        rows.setdefault(code, ProgramQuality(code)).counts[kind] += n
    return sorted(rows.values(), key=lambda r: r.program)


# -- before finalising a recipient list ----------------------------------------------------------------------------
@dataclass
class CheckRow:
    benefit: Benefit
    nik: str
    findings: list[str]


def program_checklist(*, actor: Actor, batch_id: int) -> list[CheckRow] | None:
    """Each recipient of one imported list with everything that should stop it going out as it is."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return None
    scope = scope_code(actor) or ""
    benefits = list(
        Benefit.objects.filter(batch_id=batch_id)
        .filter(within_q(scope, field="village__code")
                | Q(person__in=Person.objects.filter(within_q(scope, field="memberships__family__village__code"))
                    .values("pk")))
        .select_related("person", "program").order_by("pk")
    )  # fmt: skip
    person_ids = [b.person_id for b in benefits if b.person_id]
    exclusions: dict[int, list[str]] = defaultdict(list)
    for person_id, kind in Exclusion.objects.filter(person_id__in=person_ids).values_list("person_id", "kind"):
        exclusions[person_id].append(kind)
    two_families = set(
        RegistryFlag.objects.filter(person_id__in=person_ids, kind=FlagKind.NIK_TWO_FAMILIES, resolved_at__isnull=True)
        .values_list("person_id", flat=True)
    )  # fmt: skip
    desil = dict(
        Membership.objects.filter(person_id__in=person_ids, active=True).values_list(
            "person_id", "family__desil_national"
        )
    )
    seen: Counter[tuple[int, int, str]] = Counter(
        (b.person_id, b.program_id, b.period) for b in benefits if b.person_id
    )
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    out = []
    for b in benefits:
        findings: list[str] = []
        person = b.person
        if person is None:
            findings.append(str(_("tidak ada di registri")) if b.nik else str(_("NIK tidak valid")))
        else:
            if person.vital_status == "deceased":
                findings.append(str(_("meninggal")) + (f" {person.death_date:%d-%m-%Y}" if person.death_date else ""))
            if person.vital_status == "moved_out":
                findings.append(str(_("pindah keluar daerah")))
            findings += [str(CATEGORIES.get(k, k)) for k in exclusions.get(person.pk, [])]
            if person.pk in two_families:
                findings.append(str(_("NIK di dua KK aktif")))
            if seen[(person.pk, b.program_id, b.period)] > 1:
                findings.append(str(_("tercatat lebih dari sekali pada periode yang sama")))
            if desil.get(person.pk) is None:
                findings.append(str(_("keluarga tanpa desil")))
        shown = b.nik or b.nik_raw
        out.append(CheckRow(b, shown if full else mask_nik(shown), findings))
    return out


CLEAN_COLUMNS = ("record_id", "nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "kode_desa", "status",
                 "temuan")  # fmt: skip


def cleaned_person_rows(*, actor: Actor) -> list[list[str]] | None:
    """The registry as one list, one row per person (merged duplicates left out), with each person's findings.

    The import template's columns, so the cleaned list goes straight into other tools or back into `tepat import`.
    """
    if not has_permission(actor, Permission.EXPORT_PERSONS):
        return None
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    exact_dates = has_permission(actor, Permission.VIEW_SENSITIVE)
    people = Person.objects.visible_to(actor).filter(merged_into__isnull=True)
    exclusions: dict[int, list[str]] = defaultdict(list)
    for person_id, kind in Exclusion.objects.filter(person__in=people.values("pk")).values_list("person_id", "kind"):
        exclusions[person_id].append(str(CATEGORIES.get(kind, kind)))
    homes = dict(
        (m[0], m[1:])
        for m in Membership.objects.filter(person__in=people.values("pk"), active=True).values_list(
            "person_id", "family__kk", "family__kk_raw", "family__village_id"
        )
    )
    rows = []
    for pk, nik, nik_raw, valid, name, sex, born, status in people.order_by("pk").values_list(
        "pk", "nik", "nik_raw", "nik_valid", "name", "sex", "birth_date", "vital_status"
    ):
        kk, kk_raw, village = homes.get(pk, ("", "", ""))
        shown, shown_kk = nik or nik_raw, kk or kk_raw or ""
        findings = ([] if valid else [str(CATEGORIES["nik_invalid"])]) + exclusions.get(pk, [])
        rows.append([str(pk), shown if full else mask_nik(shown), shown_kk if full else mask_nik(shown_kk), name, sex,
                     (born.isoformat() if exact_dates else str(born.year)) if born else "", village or "", status,
                     "; ".join(findings)])  # fmt: skip
    return rows
