"""Writes for programs, the ledger's statuses, action plans (RAT) and partner adoptions.

Each service checks who acts, runs in one transaction and writes its own audit row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tepat.accounts.models import Organisation
from tepat.accounts.permissions import Permission, PermissionDenied
from tepat.accounts.services import audit
from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.engine.rules import RuleError
from tepat.errors import UserError
from tepat.programs.access import (
    AUDIT_ADOPTION,
    AUDIT_PLAN,
    AUDIT_PROGRAM,
    can_adopt,
    can_edit_program,
    can_plan,
    is_planner,
)
from tepat.programs.catalogue import alias_key
from tepat.programs.eligibility import parse_rule
from tepat.programs.models import (
    LATEST_PERIOD,
    NEXT_STAGE,
    ActionPlan,
    Activity,
    Adoption,
    AdoptionStatus,
    AnalysisSnapshot,
    Benefit,
    BenefitStatus,
    Need,
    PartnerLocus,
    Program,
    SnapshotStatus,
    Stage,
    Strategy,
    SubActivity,
)
from tepat.programs.snapshot import data_stamp, snapshot_pending
from tepat.registry.models import FamilyStatus

if TYPE_CHECKING:
    from tepat.accounts.models import User


class ProgramError(UserError):
    code = "program.invalid"


class AdoptionError(UserError):
    code = "adoption.invalid"


class PlanError(UserError):
    code = "plan.invalid"


def _require(allowed: bool, permission: Permission = Permission.EDIT_TARGETS) -> None:
    if not allowed:
        raise PermissionDenied(permission)


# -- the analyses' snapshot -----------------------------------------------------------------------------------------
def analysis_refresh_queue(*, period: str | None = None, planned: bool = False) -> AnalysisSnapshot:
    """Queue a refresh of the analyses' shared snapshot, unless one that will see the current data is queued.

    For whoever changes what the analyses read: intake after an import commit or rollback, linkage after a run,
    a reviewed pair or an undone merge, this app after program and ledger edits. ``period`` None refreshes the
    ledger's latest year, which the pages show by default (other periods refresh when someone opens them). Cheap
    (a few indexed reads and, at most, one row and one task) and safe inside the caller's transaction: the
    database task backend stores the task with the caller's rows, so the worker sees both or neither.
    """
    from tepat.programs.tasks import refresh_analysis

    key = LATEST_PERIOD if period is None else period
    current = data_stamp()
    pending = snapshot_pending(period=key, planned=planned)
    if pending is not None and (pending.status == SnapshotStatus.QUEUED or pending.stamp == current):
        return pending
    # A refresh that failed on these very data would fail again: it waits for new data (or a fix) instead.
    failed = AnalysisSnapshot.objects.filter(status=SnapshotStatus.FAILED, period=key, planned=planned, stamp=current)
    if (last_failure := failed.order_by("-pk").first()) is not None:
        return last_failure
    snapshot = AnalysisSnapshot.objects.create(period=key, planned=planned)
    refresh_analysis.enqueue(snapshot.pk)
    # An inline backend (tests, single-process setups) has computed it already, or found it current and dropped it.
    return AnalysisSnapshot.objects.filter(pk=snapshot.pk).first() or snapshot


# -- programs ---------------------------------------------------------------------------------------------------
def program_ids_for_codes(codes: Iterable[str]) -> tuple[dict[str, int], int]:
    """Program id for each code a recipient list names: the code itself, else a program's alias ("Sembako
    (BPNT)" → SEMBAKO), else a new bare program (code = name) for the TKPK to complete. Returns (ids, created).

    Meant for the import writer, inside its transaction, so lists attach to the preloaded national programs.
    """
    wanted = sorted(set(codes))
    found = {p.code: p.pk for p in Program.objects.filter(code__in=wanted)}
    missing = [c for c in wanted if c not in found]
    created = 0
    if missing:
        by_key: dict[str, int] = {}
        for pk, code, aliases in Program.objects.values_list("pk", "code", "aliases"):
            for name in (code, *(aliases or [])):
                by_key.setdefault(alias_key(name), pk)
        for code in missing:
            known = by_key.get(alias_key(code))
            if known is None:
                known = by_key[alias_key(code)] = Program.objects.create(code=code, name=code).pk
                created += 1
            found[code] = known
    return found, created


@dataclass
class Folded:
    programs: list[str] = field(default_factory=list)
    benefits: int = 0


@transaction.atomic
def programs_fold_aliases(*, actor: User | None) -> Folded:
    """Move the ledger rows of bare programs an import created (code = name) into the program whose code or
    alias they match, and remove the bare program. For lists imported before the alias was known."""
    if actor is not None:
        _require(is_planner(actor))
    result = Folded()
    keyed: dict[str, Program] = {}
    for program in Program.objects.exclude(name=F("code")):
        for name in (program.code, *program.aliases):
            keyed.setdefault(alias_key(name), program)
    for bare in Program.objects.filter(name=F("code")):
        target = keyed.get(alias_key(bare.code))
        if target is None or target.pk == bare.pk:
            continue
        moved = Benefit.objects.filter(program=bare).update(program=target)
        SubActivity.objects.filter(program=bare).update(program=target)
        result.benefits += moved
        result.programs.append(f"{bare.code} → {target.code}")
        bare.delete()
    if result.programs:
        audit(actor, AUDIT_PROGRAM, target_type="programs.program", detail={"folded": result.programs,
                                                                             "benefits": result.benefits})  # fmt: skip
        analysis_refresh_queue()
    return result


def check_rule(text: str) -> str:
    """The rule as saved (stripped), or ProgramError with the rule language's Indonesian message."""
    text = text.strip()
    if text:
        try:
            parse_rule(text)
        except RuleError as exc:
            raise ProgramError(f"aturan kelayakan: {exc}") from exc
    return text


PROGRAM_FIELDS = ("name", "funder", "organisation", "unit", "benefit_type", "value", "value_note", "period",
                  "eligibility_rule", "eligibility_note", "source", "active")  # fmt: skip


@transaction.atomic
def program_save(
    *, actor: User, program: Program | None, code: str = "", strategies: Sequence[str] = (), **values: Any
) -> Program:
    """Create or change a program; its rule is checked against the family fields before it is stored."""
    _require(can_edit_program(actor, program))
    unknown = set(values) - set(PROGRAM_FIELDS)
    if unknown:
        raise TypeError(f"unknown program fields: {sorted(unknown)}")
    if "eligibility_rule" in values:
        values["eligibility_rule"] = check_rule(values["eligibility_rule"] or "")
    if program is None:
        code = code.strip().upper()[:80]
        if not code:
            raise ProgramError("kode program wajib diisi")
        if Program.objects.filter(code=code).exists():
            raise ProgramError(f"kode program {code} sudah dipakai")
        program = Program(code=code, name=values.get("name") or code)
        if not is_planner(actor):  # an agency's new program is its own
            values["organisation"] = actor.organisation
    elif not is_planner(actor):
        values.pop("organisation", None)  # an agency cannot give its program away
    before = {name: str(getattr(program, name, "")) for name in values}
    for name, value in values.items():
        setattr(program, name, value)
    program.save()
    if strategies is not None:
        program.strategies.set(Strategy.objects.filter(code__in=list(strategies)))
    changed = {k: str(getattr(program, k)) for k in values if before.get(k) != str(getattr(program, k))}
    audit(actor, AUDIT_PROGRAM, target=program, detail={"code": program.code, "changed": changed,
                                                        "strategies": sorted(strategies)})  # fmt: skip
    analysis_refresh_queue()
    return program


@transaction.atomic
def benefits_set_status(*, actor: User, program: Program, batch_id: int, status: str) -> int:
    """Mark one imported list of a program as planned, delivered or verified (e.g. after the field check)."""
    _require(can_edit_program(actor, program))
    if status not in BenefitStatus.values:
        raise ProgramError(f"status tidak dikenal: {status}")
    updated = Benefit.objects.filter(program=program, batch_id=batch_id).exclude(status=status).update(status=status)
    audit(actor, AUDIT_PROGRAM, target=program,
          detail={"code": program.code, "batch": batch_id, "status": status, "rows": updated})  # fmt: skip
    if updated:
        analysis_refresh_queue()
    return updated


# -- action plans ------------------------------------------------------------------------------------------------
@transaction.atomic
def plan_create(*, actor: User, organisation: Organisation, year: int, title: str = "") -> ActionPlan:
    _require(can_plan(actor, organisation))
    if not 2000 <= year <= 2100:
        raise PlanError(f"tahun tidak masuk akal: {year}")
    plan, created = ActionPlan.objects.get_or_create(
        organisation=organisation, year=year, defaults={"title": title[:200], "created_by": actor}
    )
    if not created:
        raise PlanError(f"RAT {year} untuk {organisation} sudah ada")
    audit(actor, AUDIT_PLAN, target=plan, detail={"year": year, "organisation": organisation.name})
    return plan


@transaction.atomic
def activity_add(
    *, actor: User, plan: ActionPlan, name: str, budget_code: str = "", strategies: Sequence[str] = ()
) -> Activity:
    _require(can_plan(actor, plan.organisation))
    if not name.strip():
        raise PlanError("nama kegiatan wajib diisi")
    activity = Activity.objects.create(
        plan=plan, name=name.strip()[:300], budget_code=budget_code.strip()[:60], position=plan.activities.count() + 1
    )
    activity.strategies.set(Strategy.objects.filter(code__in=list(strategies)))
    audit(actor, AUDIT_PLAN, target=activity, detail={"plan": plan.pk, "name": activity.name})
    return activity


def _region_villages(codes: Iterable[str]) -> list[Area]:
    codes = sorted({c.strip() for c in codes if c.strip()})
    villages = list(Area.objects.filter(code__in=codes, level=Level.VILLAGE).filter(within_q(settings.TEPAT_REGION)))
    unknown = sorted(set(codes) - {v.code for v in villages})
    if unknown:
        raise PlanError(f"kode desa/kelurahan tidak dikenal di wilayah ini: {', '.join(unknown[:5])}")
    return villages


@transaction.atomic
def subactivity_add(
    *,
    actor: User,
    activity: Activity,
    name: str,
    budget: Decimal,
    budget_code: str = "",
    output_indicator: str = "",
    output_target: Decimal | None = None,
    output_unit: str = "",
    villages: Sequence[str] = (),
    strategies: Sequence[str] = (),
    program: Program | None = None,
) -> SubActivity:
    _require(can_plan(actor, activity.plan.organisation))
    if not name.strip():
        raise PlanError("nama sub-kegiatan wajib diisi")
    if budget < 0:
        raise PlanError("pagu anggaran tidak boleh negatif")
    sub = SubActivity.objects.create(
        activity=activity, name=name.strip()[:300], budget_code=budget_code.strip()[:60], budget=budget,
        output_indicator=output_indicator.strip()[:200], output_target=output_target, output_unit=output_unit[:40],
        program=program, position=activity.subactivities.count() + 1,
        history=[{"stage": Stage.PLAN.value, "at": timezone.now().isoformat(), "by": actor.username, "note": ""}],
    )  # fmt: skip
    sub.villages.set(_region_villages(villages))
    sub.strategies.set(Strategy.objects.filter(code__in=list(strategies)))
    audit(actor, AUDIT_PLAN, target=sub, detail={"activity": activity.pk, "name": sub.name, "budget": str(budget)})
    return sub


@transaction.atomic
def subactivity_follow_up(
    *,
    actor: User,
    sub: SubActivity,
    advance: bool = False,
    budget_absorbed: Decimal | None = None,
    output_realised: Decimal | None = None,
    families_reached: int | None = None,
    note: str = "",
) -> SubActivity:
    """Record realisation and, when asked, move to the next stage of plan → implement → monitor → evaluate."""
    sub = SubActivity.objects.select_for_update().select_related("activity__plan__organisation").get(pk=sub.pk)
    _require(can_plan(actor, sub.activity.plan.organisation))
    if budget_absorbed is not None and budget_absorbed < 0:
        raise PlanError("realisasi anggaran tidak boleh negatif")
    if families_reached is not None and families_reached < 0:
        raise PlanError("jumlah keluarga tidak boleh negatif")
    before = sub.stage
    if advance:
        following = NEXT_STAGE.get(Stage(sub.stage))
        if following is None:
            raise PlanError("sub-kegiatan sudah pada tahap evaluasi")
        sub.stage = following
    changed: dict[str, Any] = {}
    for name, value in (("budget_absorbed", budget_absorbed), ("output_realised", output_realised),
                        ("families_reached", families_reached)):  # fmt: skip
        if value is not None and getattr(sub, name) != value:
            setattr(sub, name, value)
            changed[name] = str(value)
    entry = {"stage": sub.stage, "at": timezone.now().isoformat(), "by": actor.username, "note": note.strip()[:500]}
    sub.history = [*sub.history, {**entry, **changed}]
    sub.save()
    audit(actor, AUDIT_PLAN, target=sub, detail={"from": before, "to": sub.stage, **changed, "note": entry["note"]})
    return sub


@dataclass
class PlanRowsLoaded:
    activities: int = 0
    subactivities: int = 0
    problems: list[str] = field(default_factory=list)


@transaction.atomic
def plan_rows_load(*, actor: User, plan: ActionPlan, rows: Iterable[dict[str, str]]) -> PlanRowsLoaded:
    """Sub-activities from a spreadsheet (one row each, the activity repeated): how agencies keep their RAT.

    Columns: kode_kegiatan, kegiatan, kode_sub_kegiatan, sub_kegiatan, pagu, indikator, target, satuan,
    lokus (village codes separated by ; or ,), strategi (codes separated by ;), program (code).
    """
    _require(can_plan(actor, plan.organisation))
    result = PlanRowsLoaded()
    activities = {(a.budget_code, a.name): a for a in plan.activities.all()}
    programs = {p.code: p for p in Program.objects.all()}
    for number, raw in enumerate(rows, start=2):
        row: defaultdict[str, str] = defaultdict(str, {key: (value or "").strip() for key, value in raw.items()})
        get = row.__getitem__
        if not get("sub_kegiatan"):
            result.problems.append(f"baris {number}: sub_kegiatan kosong")
            continue
        key = (get("kode_kegiatan"), get("kegiatan") or get("kode_kegiatan") or "Kegiatan")
        activity = activities.get(key)
        if activity is None:
            activity = activity_add(actor=actor, plan=plan, name=key[1], budget_code=key[0],
                                    strategies=_split(get("strategi")))  # fmt: skip
            activities[key] = activity
            result.activities += 1
        try:
            subactivity_add(
                actor=actor, activity=activity, name=get("sub_kegiatan"), budget_code=get("kode_sub_kegiatan"),
                budget=_money(get("pagu")), output_indicator=get("indikator"),
                output_target=_money(get("target")) if get("target") else None, output_unit=get("satuan"),
                villages=_split(get("lokus")), strategies=_split(get("strategi")),
                program=programs.get(get("program").upper()) if get("program") else None,
            )  # fmt: skip
        except (PlanError, ValueError) as exc:
            result.problems.append(f"baris {number}: {exc}")
            continue
        result.subactivities += 1
    return result


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip()]


def _money(text: str) -> Decimal:
    """Rupiah as people type it: "1.250.000", "1250000", "Rp 1.250.000,00"."""
    cleaned = text.replace("Rp", "").replace(" ", "").strip()
    if "," in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    elif cleaned.count(".") >= 1 and all(len(part) == 3 for part in cleaned.split(".")[1:]):
        cleaned = cleaned.replace(".", "")
    try:
        return Decimal(cleaned or "0")
    except ArithmeticError as exc:
        raise ValueError(f"angka tidak terbaca: {text!r}") from exc


# -- partner adoption ------------------------------------------------------------------------------------------
def partner_areas(organisation_id: int) -> list[str]:
    return list(PartnerLocus.objects.filter(organisation_id=organisation_id).values_list("area_id", flat=True))


@transaction.atomic
def partner_locus_set(*, actor: User, organisation: Organisation, areas: Sequence[str]) -> list[str]:
    """The areas a partner works in; set by the TKPK (the partner's agreement with the region)."""
    _require(is_planner(actor))
    found = list(Area.objects.filter(code__in=list(areas)).filter(within_q(settings.TEPAT_REGION)))
    unknown = sorted(set(areas) - {a.code for a in found})
    if unknown:
        raise AdoptionError(f"wilayah tidak dikenal: {', '.join(unknown[:5])}")
    PartnerLocus.objects.filter(organisation=organisation).delete()
    PartnerLocus.objects.bulk_create([PartnerLocus(organisation=organisation, area=a) for a in found])
    audit(actor, AUDIT_ADOPTION, target=organisation, detail={"locus": sorted(a.code for a in found)})
    return sorted(a.code for a in found)


@transaction.atomic
def adoption_claim(*, actor: User, family_id: int, need: str, note: str = "") -> Adoption:
    """The actor's organisation takes on one need of a family from its priority list.

    Refused when another partner (or the same one) already holds that need of that family: the database's
    partial unique constraint decides, so two partners claiming at the same moment cannot both win.
    """
    _require(can_adopt(actor), Permission.VIEW_PERSONS)
    if need not in Need.values:
        raise AdoptionError(f"kebutuhan tidak dikenal: {need}")
    from tepat.programs.selectors import partner_families

    family = partner_families(actor=actor).filter(pk=family_id, status=FamilyStatus.ACTIVE).first()
    if family is None:
        raise AdoptionError("keluarga tidak ditemukan di lokus Anda")
    try:
        with transaction.atomic():
            adoption = Adoption.objects.create(
                organisation_id=actor.organisation_id or 0, family=family, need=need, plan_note=note.strip()[:300],
                created_by=actor,
            )  # fmt: skip
    except IntegrityError:
        raise AdoptionError(f"kebutuhan {Need(need).label.lower()} keluarga ini sudah diklaim mitra lain") from None
    audit(actor, AUDIT_ADOPTION, target=adoption, detail={"family": family.pk, "need": need, "action": "claim"})
    return adoption


def _own_adoption(actor: User, adoption: Adoption) -> Adoption:
    adoption = Adoption.objects.select_for_update().get(pk=adoption.pk)
    if not (is_planner(actor) or (can_adopt(actor) and adoption.organisation_id == actor.organisation_id)):
        raise PermissionDenied(Permission.VIEW_PERSONS)
    return adoption


@transaction.atomic
def adoption_deliver(*, actor: User, adoption: Adoption, note: str, amount: Decimal | None = None) -> Adoption:
    """What the partner handed over, in its own words (and its value): the family timeline shows it."""
    adoption = _own_adoption(actor, adoption)
    if adoption.status != AdoptionStatus.CLAIMED:
        raise AdoptionError(f"adopsi #{adoption.pk} tidak lagi berstatus diklaim")
    if not note.strip():
        raise AdoptionError("tuliskan apa yang disalurkan")
    if amount is not None and amount < 0:
        raise AdoptionError("nilai tidak boleh negatif")
    adoption.status = AdoptionStatus.DELIVERED
    adoption.delivered_note = note.strip()[:500]
    adoption.amount = amount
    adoption.delivered_at = timezone.now()
    adoption.save()
    audit(actor, AUDIT_ADOPTION, target=adoption,
          detail={"family": adoption.family_id, "need": adoption.need, "action": "deliver",
                  "amount": str(amount) if amount is not None else None})  # fmt: skip
    return adoption


@transaction.atomic
def adoption_cancel(*, actor: User, adoption: Adoption, note: str) -> Adoption:
    """Give a claimed need back so another partner can take it on."""
    adoption = _own_adoption(actor, adoption)
    if adoption.status != AdoptionStatus.CLAIMED:
        raise AdoptionError(f"adopsi #{adoption.pk} tidak lagi berstatus diklaim")
    if not note.strip():
        raise AdoptionError("tuliskan alasan pembatalan")
    adoption.status = AdoptionStatus.CANCELLED
    adoption.delivered_note = note.strip()[:500]
    adoption.save()
    audit(actor, AUDIT_ADOPTION, target=adoption,
          detail={"family": adoption.family_id, "need": adoption.need, "action": "cancel"})  # fmt: skip
    return adoption
