"""Reads of the targeting app. Every function takes the acting user and returns only what role and area allow.

Aggregates (counts per village, MPI, scenario figures) need VIEW_AGGREGATES and are cut to the user's area; named
families need VIEW_PERSONS and come through ``Family.objects.visible_to``. Numbers and names leave this module
already masked for users without VIEW_FULL_NIK (partners): ``6474********0001`` and initials, never the full name.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area
from tepat.areas.selectors import within_q
from tepat.engine.identity import mask_nik
from tepat.engine.rules import RowExplanation
from tepat.engine.scorecard import BUILTIN, FAMILY_FIELDS, load_scorecard
from tepat.registry.models import Family, FamilyStatus, Membership, Relationship, SourceRecord
from tepat.targeting.models import (
    PMT_PREFIX,
    SCORECARD_PREFIX,
    EligibilityRule,
    RunStatus,
    Scenario,
    ScoringRun,
    WelfareAssessment,
)
from tepat.targeting.table import REGISTRY_FIELDS, compile_registry_rule, family_table_from_registry

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


def _inside(code: str, scope: str) -> bool:
    return code == scope or code.startswith(scope + ".")


def can_edit_rules(actor: Actor) -> bool:
    return has_permission(actor, Permission.EDIT_TARGETS)


def can_compute_scores(actor: Actor) -> bool:
    return has_permission(actor, Permission.EDIT_REGISTRY)


@lru_cache(maxsize=16)
def _scorecard_name(card_id: str) -> str:
    try:
        return load_scorecard(card_id).name
    except Exception:  # a card removed since the run: the id is still a fine label
        return card_id


def method_label(method: str) -> str:
    if method.startswith(SCORECARD_PREFIX):
        return _scorecard_name(method.removeprefix(SCORECARD_PREFIX))
    if method.startswith(PMT_PREFIX):
        return _("PMT %(model)s") % {"model": method.removeprefix(PMT_PREFIX)}
    return method


def scorecard_choices() -> list[tuple[str, str]]:
    return [(card, _scorecard_name(card)) for card in BUILTIN]


def welfare_sources() -> list[tuple[str, str]]:
    """Where a scenario may take welfare from: the desil midpoint, or a PMT stored as welfare in rupiah."""
    methods = (
        WelfareAssessment.objects.filter(method__startswith=PMT_PREFIX, explanation__welfare=True)
        .values_list("method", flat=True)
        .distinct()
        .order_by("method")
    )
    return [("desil", _("titik tengah desil resmi")), *((m, method_label(m)) for m in methods)]


# -- overview ---------------------------------------------------------------------------------------------------------
@dataclass
class AreaLine:
    code: str
    label: str
    level: str  # village, district, regency
    compare: dict[str, Any] | None
    mpi: dict[str, Any] | None
    top_indicator: str = ""

    @property
    def agreement(self) -> float | None:
        """Share of families ranked by both whose local desil is within one of the official one."""
        if not self.compare or not self.compare.get("ranked_both"):
            return None
        return float(self.compare["within_one"]) / float(self.compare["ranked_both"])


@dataclass
class Overview:
    method: str
    run: ScoringRun | None
    pending: ScoringRun | None
    methods: list[tuple[str, str]]
    lines: list[AreaLine]
    total: AreaLine | None
    indicators: list[dict[str, Any]]
    can_compute: bool
    scorecards: list[tuple[str, str]] = field(default_factory=scorecard_choices)


def targeting_overview(*, actor: Actor, method: str = "") -> Overview | None:
    """Official desil against the local score, and the MPI, per district and village of the actor's area."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    done = ScoringRun.objects.filter(status=RunStatus.DONE)
    methods = list(dict.fromkeys(done.values_list("method", flat=True)))
    chosen = method if method in methods else (methods[0] if methods else "")
    run = done.filter(method=chosen).first() if chosen else None
    latest = ScoringRun.objects.first()
    pending = latest if latest is not None and latest.status != RunStatus.DONE else None  # running, or its failure
    lines: list[AreaLine] = []
    total = None
    indicators: list[dict[str, Any]] = []
    if run is not None:
        summary = run.summary
        labels = {i["id"]: i["label"] for i in summary.get("indicators", [])}
        indicators = summary.get("indicators", [])
        found: dict[str, AreaLine] = {}
        for level in ("regency", "district", "village"):
            compare = {row["area"]: row for row in summary.get(f"compare_{level}", []) if row.get("area")}
            mpi = {row["area"]: row for row in summary.get(f"mpi_{level}", []) if row.get("area")}
            for code in sorted(set(compare) | set(mpi)):
                found[code] = AreaLine(
                    code, code, level, compare.get(code), mpi.get(code), _top_indicator(mpi.get(code), labels)
                )
        names = {a.code: a.label for a in Area.objects.filter(code__in=list(found))}
        for line in found.values():
            line.label = names.get(line.code, line.code)
        # The widest area wholly inside the actor's scope is the total; everything below it the lines.
        inside = [line for line in found.values() if _inside(line.code, scope)]
        widest = min((len(line.code) for line in inside), default=0)
        tops = [line for line in inside if len(line.code) == widest]
        total = tops[0] if len(tops) == 1 else None  # a province deployment lists its regencies instead
        lines = sorted((line for line in inside if line is not total), key=lambda line: line.code)
    return Overview(
        method=chosen,
        run=run,
        pending=pending,
        methods=[(m, method_label(m)) for m in methods],
        lines=lines,
        total=total,
        indicators=indicators,
        can_compute=can_compute_scores(actor),
    )


def _top_indicator(mpi: dict[str, Any] | None, labels: dict[str, str]) -> str:
    if not mpi:
        return ""
    parts = {k.removeprefix("contribution."): v for k, v in mpi.items() if k.startswith("contribution.") and v}
    if not parts:
        return ""
    best = max(parts, key=lambda k: parts[k])
    return f"{labels.get(best, best)} ({100 * parts[best]:.0f} %)"


def scoring_run_get(*, actor: Actor, pk: int) -> ScoringRun:
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        raise ScoringRun.DoesNotExist
    return ScoringRun.objects.get(pk=pk)


# -- the family page --------------------------------------------------------------------------------------------------
@dataclass
class AssessmentLine:
    method: str
    label: str
    official: bool
    version: str
    assessed_on: date | None
    source: str
    score: float | None
    desil: int | None
    rank: int | None
    poor: bool | None
    extreme: bool | None
    top: list[dict[str, Any]] = field(default_factory=list)
    unknown_share: float | None = None
    outright: str = ""


def family_assessments(*, actor: Actor, family: Family) -> list[AssessmentLine]:
    """Every welfare assessment of a family: the official desil as imported (national, province, regency) and each
    local method, with what drove it. Empty when the actor may not see the family."""
    if not Family.objects.visible_to(actor).filter(pk=family.pk).exists():
        return []
    record_ids = {family.lineage.get(name) for name in ("desil_national", "desil_province", "desil_regency")}
    sources = {
        r.pk: _("%(source)s · %(file)s, baris %(row)s")
        % {"source": r.batch.source.name, "file": r.batch.file_name, "row": r.row_number}
        for r in SourceRecord.objects.filter(pk__in=[i for i in record_ids if i]).select_related("batch__source")
    }
    lines = []
    for name, label, method in (
        ("desil_national", _("Desil nasional (resmi, DTSEN)"), "desil_national"),
        ("desil_province", _("Desil provinsi (resmi)"), "desil_province"),
        ("desil_regency", _("Desil kabupaten/kota (resmi)"), "desil_regency"),
    ):
        value = getattr(family, name)
        if value is None and name != "desil_national":
            continue
        lines.append(
            AssessmentLine(
                method=method,
                label=label,
                official=True,
                version="",
                assessed_on=family.welfare_date,
                source=sources.get(family.lineage.get(name), ""),
                score=None,
                desil=value,
                rank=None,
                poor=None if value is None else value <= 4,
                extreme=None if value is None else value == 1,
            )
        )
    for a in WelfareAssessment.objects.filter(family=family).order_by("method"):
        explanation = a.explanation or {}
        lines.append(
            AssessmentLine(
                method=a.method,
                label=method_label(a.method),
                official=False,
                version=a.version,
                assessed_on=a.assessed_on,
                source=a.source,
                score=a.score,
                desil=a.desil,
                rank=a.rank,
                poor=a.poor,
                extreme=a.extreme,
                top=list(explanation.get("top", [])),
                unknown_share=explanation.get("unknown_share"),
                outright=explanation.get("outright", ""),
            )
        )
    return lines


# -- named families -------------------------------------------------------------------------------------------------
def initials(name: str) -> str:
    """ "Ahmad Fauzi" → "A. F.": enough to confirm a family in the field, not to look a person up."""
    return " ".join(f"{part[0]}." for part in name.split() if part[:1].isalpha()).upper()


@dataclass
class FamilyLine:
    pk: int
    kk: str
    head: str
    head_nik: str
    village: str
    village_code: str
    desil: int | None
    members: int | None = None


def family_lines(*, actor: Actor, family_ids: Sequence[int]) -> list[FamilyLine]:
    """The families of ``family_ids`` the actor may see, in the order given, masked as the role requires."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return []
    full = has_permission(actor, Permission.VIEW_FULL_NIK)
    head = Membership.objects.filter(family=OuterRef("pk"), relationship=Relationship.HEAD, active=True).order_by(
        "position"
    )
    found: dict[int, FamilyLine] = {}
    wanted = [int(i) for i in family_ids]
    for start in range(0, len(wanted), 2000):
        chunk = wanted[start : start + 2000]
        families = (
            Family.objects.visible_to(actor)
            .filter(pk__in=chunk)
            .select_related("village")
            .annotate(
                head_name=Subquery(head.values("person__name")[:1]),
                head_nik=Subquery(head.values("person__nik")[:1]),
                head_nik_raw=Subquery(head.values("person__nik_raw")[:1]),
            )
        )
        for f in families:
            number = f.kk or f.kk_raw or ""
            nik = f.head_nik or f.head_nik_raw or ""
            found[f.pk] = FamilyLine(
                pk=f.pk,
                kk=(number if full else mask_nik(number)) if number else "",
                head=(f.head_name or "") if full else initials(f.head_name or ""),
                head_nik=(nik if full else mask_nik(nik)) if nik else "",
                village=f.village.label,
                village_code=f.village_id,
                desil=f.desil_national,
            )
    return [found[i] for i in wanted if i in found]


# -- rules ----------------------------------------------------------------------------------------------------------
def rule_list(*, actor: Actor) -> QuerySet[EligibilityRule]:
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        return EligibilityRule.objects.none()
    return EligibilityRule.objects.select_related("program", "created_by")


def rule_get(*, actor: Actor, pk: int) -> EligibilityRule:
    return rule_list(actor=actor).get(pk=pk)


def rule_fields() -> list[dict[str, Any]]:
    """The fields a rule may name (the registry's), with their Indonesian names and known values, for the editor."""
    return [
        {
            "name": spec.name,
            "aliases": spec.aliases,
            "label": spec.label,
            "type": spec.type,
            "values": spec.values or (),
        }
        for spec in FAMILY_FIELDS
        if spec.name in REGISTRY_FIELDS and spec.name != "family_id"
    ]


@dataclass
class ExampleFamily:
    line: FamilyLine
    result: bool | None
    summary: str
    conditions: list[tuple[str, bool | None]]


@dataclass
class DryRunView:
    total: int
    eligible: int
    not_eligible: int
    unknown: int
    by_area: list[dict[str, Any]]
    reasons: list[tuple[str, int, int]]
    examples_in: list[ExampleFamily]
    examples_out: list[ExampleFamily]
    personal: bool  # the actor may see named families

    @property
    def eligible_share(self) -> float | None:
        return self.eligible / self.total if self.total else None


def _examples(actor: Actor, ids: np.ndarray, explanations: list[RowExplanation]) -> list[ExampleFamily]:
    lines = {line.pk: line for line in family_lines(actor=actor, family_ids=[int(ids[e.row]) for e in explanations])}
    out = []
    for e in explanations:
        line = lines.get(int(ids[e.row]))
        if line is None:
            continue
        conditions = [(clause.text, state) for clause, state in e.conditions]
        out.append(ExampleFamily(line, e.result, e.summary(), conditions))
    return out


def rule_dry_run(*, actor: Actor, expression: str, examples: int = 5, on: date | None = None) -> DryRunView | None:
    """What a rule would do over the families of the actor's area: counts per village, the clauses that decided,
    and examples in and out with the reason. None without VIEW_AGGREGATES; RuleError when the rule is unusable."""
    if not has_permission(actor, Permission.VIEW_AGGREGATES):
        return None
    rule = compile_registry_rule(expression)
    families = Family.objects.visible_to(actor, permission=Permission.VIEW_AGGREGATES)
    data = family_table_from_registry(families=families, on=on)
    result = rule.dry_run(data.table, examples=examples)
    names = dict(Area.objects.filter(code__in=result.by_area.column("area").to_pylist()).values_list("code", "name"))
    by_area = [
        {
            **row,
            "label": names.get(row["area"], row["area"]),
            "share": row["eligible"] / row["families"] if row["families"] else None,
        }
        for row in result.by_area.to_pylist()
    ]
    personal = has_permission(actor, Permission.VIEW_PERSONS)
    examples_in: list[ExampleFamily] = []
    examples_out: list[ExampleFamily] = []
    if personal and (result.examples_in or result.examples_out):
        explained = rule.explain(data.table, [*result.examples_in, *result.examples_out])
        examples_in = _examples(actor, data.ids, explained[: len(result.examples_in)])
        examples_out = _examples(actor, data.ids, explained[len(result.examples_in) :])
    return DryRunView(
        total=result.total,
        eligible=result.eligible,
        not_eligible=result.not_eligible,
        unknown=result.unknown,
        by_area=by_area,
        reasons=[(clause.text, ins, outs) for clause, ins, outs in result.reasons],
        examples_in=examples_in,
        examples_out=examples_out,
        personal=personal,
    )


def rule_explain_family(*, actor: Actor, expression: str, family_pk: int, on: date | None = None) -> ExampleFamily:
    """Why one family is in or out. Raises Family.DoesNotExist when the actor may not see it."""
    families = Family.objects.visible_to(actor).filter(pk=family_pk, status=FamilyStatus.ACTIVE)
    if not families.exists():
        raise Family.DoesNotExist
    rule = compile_registry_rule(expression)
    data = family_table_from_registry(families=families, on=on)
    found = _examples(actor, data.ids, rule.explain(data.table, [0]))
    if not found:
        raise Family.DoesNotExist
    return found[0]


def family_by_kk(*, actor: Actor, kk: str) -> Family | None:
    digits = "".join(ch for ch in kk if ch.isdigit())
    if not digits:
        return None
    return Family.objects.visible_to(actor).filter(kk=digits).first()


# -- scenarios --------------------------------------------------------------------------------------------------------
def scenario_list(*, actor: Actor) -> QuerySet[Scenario]:
    """Scenarios made inside the actor's area (or made for exactly that area or a part of it): every figure of
    such a scenario is about families the actor may count."""
    scope = scope_code(actor)
    if scope is None or not has_permission(actor, Permission.VIEW_AGGREGATES):
        return Scenario.objects.none()
    return Scenario.objects.filter(within_q(scope, field="scope")).select_related(
        "program", "rule_a", "rule_b", "created_by"
    )


def scenario_get(*, actor: Actor, pk: int) -> Scenario:
    return scenario_list(actor=actor).get(pk=pk)


@dataclass
class ScenarioView:
    scenario: Scenario
    results: dict[str, Any]
    by_area: list[dict[str, Any]]
    columns: list[tuple[str, str]]  # key in by_area rows, heading
    list_a: list[FamilyLine]
    list_b: list[FamilyLine]
    assigned: list[tuple[FamilyLine, list[str]]]
    shown: int
    personal: bool


def scenario_view(*, actor: Actor, scenario: Scenario, shown: int = 50) -> ScenarioView:
    """The figures of a run, its villages with names, and the first families of each list (if the actor may)."""
    results = scenario.results or {}
    rows = results.get("by_area", [])
    names = dict(Area.objects.filter(code__in=[r["area"] for r in rows if r.get("area")]).values_list("code", "name"))
    by_area = [{**r, "label": names.get(r["area"], r["area"] or "—")} for r in rows]
    headings = {"families": _("Keluarga"), "covered_a": _("Tercakup aturan A"), "covered_b": _("Tercakup aturan B"),
                "both": _("Tercakup keduanya"), "any": _("Menerima program apa pun")}  # fmt: skip
    keys = [k for k in (rows[0] if rows else {}) if k != "area"]
    if not results.get("b"):
        keys = [k for k in keys if k not in ("covered_b", "both")]
    columns = [(k, str(headings.get(k, k))) for k in keys]
    personal = has_permission(actor, Permission.VIEW_PERSONS)
    list_a: list[FamilyLine] = []
    list_b: list[FamilyLine] = []
    assigned: list[tuple[FamilyLine, list[str]]] = []
    if personal:
        if results.get("a"):
            list_a = family_lines(actor=actor, family_ids=results["a"]["order"][:shown])
        if results.get("b"):
            list_b = family_lines(actor=actor, family_ids=results["b"]["order"][:shown])
        if results.get("assigned"):
            first = results["assigned"][:shown]
            lines = {line.pk: line for line in family_lines(actor=actor, family_ids=[pk for pk, _ in first])}
            assigned = [(lines[pk], codes) for pk, codes in first if pk in lines]
    return ScenarioView(scenario, results, by_area, columns, list_a, list_b, assigned, shown, personal)


# -- priority list of a rule ------------------------------------------------------------------------------------------
@dataclass
class PriorityRow:
    position: int
    line: FamilyLine
    members: int | None
    local_desil: int | None
    local_score: float | None
    decided_by: str


def rule_priority_list(*, actor: Actor, expression: str, on: date | None = None) -> list[PriorityRow]:
    """Eligible families of the actor's area, poorest first: official desil, then the local score (higher = more
    deprived), then registry order. Each with the clause that let it in."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return []
    rule = compile_registry_rule(expression)
    data = family_table_from_registry(families=Family.objects.visible_to(actor), on=on)
    table = data.table
    states, blamed = rule.blame(table)
    eligible = np.flatnonzero(states == 1)
    desil = np.nan_to_num(table.column("desil").to_numpy(zero_copy_only=False).astype(np.float64), nan=np.inf)
    local = table.column("local_score").to_numpy(zero_copy_only=False).astype(np.float64)
    order = eligible[np.lexsort((eligible, np.nan_to_num(-local[eligible], nan=np.inf), desil[eligible]))]
    lines = {line.pk: line for line in family_lines(actor=actor, family_ids=data.ids[order].tolist())}
    members = table.column("members").to_pylist()
    local_desil = table.column("local_desil").to_pylist()
    rows: list[PriorityRow] = []
    for row in order.tolist():
        line = lines.get(int(data.ids[row]))
        if line is None:
            continue
        score = local[row]
        rows.append(
            PriorityRow(
                position=len(rows) + 1,
                line=line,
                members=members[row],
                local_desil=None if local_desil[row] is None else int(local_desil[row]),
                local_score=None if np.isnan(score) else float(score),
                decided_by=rule.clauses[int(blamed[row])].text,
            )
        )
    return rows


# -- the family table as a file (for `tepat pmt score`) ----------------------------------------------------------
def family_table_csv(*, actor: Actor, on: date | None = None) -> tuple[bytes, int]:
    """The family table of the actor's area as CSV: one row per family, ``household_id`` = Tepat's family number,
    no names or NIK/KK (pseudonymous), for scoring with a PMT outside the web application."""
    if not has_permission(actor, Permission.VIEW_PERSONS):
        return b"", 0
    data = family_table_from_registry(families=Family.objects.visible_to(actor), on=on)
    table = data.table.drop_columns(["family_id"])
    columns = {"household_id": pa.array(data.ids)} | {
        name: table.column(name).cast(table.column(name).type.value_type)
        if pa.types.is_dictionary(table.column(name).type)
        else table.column(name)
        for name in table.column_names
    }
    out = io.BytesIO()
    pacsv.write_csv(pa.table(columns), out)
    return out.getvalue(), len(data)
