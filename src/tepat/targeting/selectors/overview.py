"""The overview (official desil against the local score, the MPI, per area) and the family page's assessments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from tepat.accounts.permissions import Permission, has_permission, scope_code
from tepat.areas.models import Area
from tepat.registry.models import Family, SourceRecord
from tepat.targeting.models import RunStatus, ScoringRun, WelfareAssessment
from tepat.targeting.selectors.common import can_compute_scores, inside, method_label, scorecard_choices
from tepat.targeting.texts import label

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from tepat.accounts.models import User

    Actor = User | AnonymousUser


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
    indicators: list[dict[str, Any]]  # id, label (in the user's language), dimension, available
    can_compute: bool
    name: str = ""  # of the scorecard behind the run, in the user's language
    source: str = ""
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
        indicators = [{**i, "label": label(i.get("label", ""))} for i in summary.get("indicators", [])]
        labels = {i["id"]: i["label"] for i in indicators}
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
        inside_scope = [line for line in found.values() if inside(line.code, scope)]
        widest = min((len(line.code) for line in inside_scope), default=0)
        tops = [line for line in inside_scope if len(line.code) == widest]
        total = tops[0] if len(tops) == 1 else None  # a province deployment lists its regencies instead
        lines = sorted((line for line in inside_scope if line is not total), key=lambda line: line.code)
    return Overview(
        method=chosen,
        run=run,
        pending=pending,
        methods=[(m, method_label(m)) for m in methods],
        lines=lines,
        total=total,
        indicators=indicators,
        can_compute=can_compute_scores(actor),
        name=label(run.summary.get("name", "")) if run is not None else "",
        source=label(run.summary.get("source", "")) if run is not None else "",
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
    record_ids = {family.source_record_id(name) for name in ("desil_national", "desil_province", "desil_regency")}
    sources = {
        r.pk: _("%(source)s · %(file)s, baris %(row)s")
        % {"source": r.batch.source.name, "file": r.batch.file_name, "row": r.row_number}
        for r in SourceRecord.objects.filter(pk__in=[i for i in record_ids if i]).select_related("batch__source")
    }
    lines = []
    for name, heading, method in (
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
                label=heading,
                official=True,
                version="",
                assessed_on=family.welfare_date,
                source=sources.get(family.source_record_id(name) or 0, ""),
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
                top=[{**i, "label": label(i.get("label", ""))} for i in explanation.get("top", [])],
                unknown_share=explanation.get("unknown_share"),
                outright=label(explanation.get("outright", "")),
            )
        )
    return lines
