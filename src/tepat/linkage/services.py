"""Writes of the linkage: a run over the registry, a reviewer's decision on a pair, merges and their undo."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.areas.selectors import region_codes
from tepat.errors import UserError
from tepat.linkage.models import LinkageRun, MatchPair, PairStatus, PersonMerge, RunStatus
from tepat.programs.models import Benefit
from tepat.registry.models import Change, Exclusion, Membership, Person

if TYPE_CHECKING:
    from tepat.engine.linkage import LinkageConfig

Progress = Callable[[str, int, int], None]
COLUMNS = ("record_id", "nik", "no_kk", "nama", "jenis_kelamin", "tempat_lahir", "tanggal_lahir",
           "nama_ibu_kandung", "alamat", "rt", "rw", "kode_desa")  # fmt: skip


class LinkageError(UserError):
    code = "linkage.state"


def registry_person_table() -> pa.Table:
    """Every person not merged away, as the engine's person list: NIK as written when it is not valid, the KK,
    address and village of the person's active family (or any family when none is active)."""
    rows: dict[int, list[Any]] = {}
    people = Person.objects.filter(merged_into__isnull=True).values_list(
        "pk", "nik", "nik_raw", "name", "sex", "birth_place", "birth_date", "mother_name"
    )
    for pk, nik, nik_raw, name, sex, place, born, mother in people.iterator(chunk_size=20_000):
        rows[pk] = [str(pk), nik or nik_raw, "", name, sex, place, born.isoformat() if born else "", mother,
                    "", "", "", ""]  # fmt: skip
    families = (
        Membership.objects.filter(person__merged_into__isnull=True)
        .order_by("active", "pk")
        .values_list(
            "person_id",
            "family__kk",
            "family__kk_raw",
            "family__address__street",
            "family__address__rt",
            "family__address__rw",
            "family__village_id",
        )
    )  # active last: it wins
    for person_id, kk, kk_raw, street, rt, rw, village in families.iterator(chunk_size=20_000):
        row = rows.get(person_id)
        if row is not None:
            row[2], row[8], row[9], row[10], row[11] = kk or kk_raw or "", street or "", rt or "", rw or "", village
    # Recipient rows whose NIK matched nobody: linkage may still find their person by name, birth date and village.
    # The ledger keeps only NIK, name and village; the rest of the evidence is in the row as the list had it.
    recipients = Benefit.objects.filter(person__isnull=True).values_list(
        "pk", "nik", "nik_raw", "name", "village_id", "source_record__values", "batch__mapping"
    )
    for pk, nik, nik_raw, name, village, raw, mapping in recipients.iterator(chunk_size=20_000):
        cell = _cells(raw or [], mapping or {})
        rows[-pk] = [f"b{pk}", nik or nik_raw, cell("kk"), name, cell("sex")[:1].upper(), cell("birth_place"),
                     _iso(cell("birth_date")), cell("mother_name"), cell("street"), cell("rt"), cell("rw"),
                     village or ""]  # fmt: skip
    columns = list(zip(*rows.values(), strict=True)) if rows else [()] * len(COLUMNS)
    return pa.table({name: pa.array(list(col), pa.string()) for name, col in zip(COLUMNS, columns, strict=True)})


def _cells(raw: list[Any], mapping: dict[str, int]) -> Callable[[str], str]:
    def cell(name: str) -> str:
        index = mapping.get(name)
        value = raw[index] if index is not None and index < len(raw) else None
        return "" if value is None else str(value).strip()

    return cell


def _iso(text: str) -> str:
    from tepat.engine.values import ValueError_, parse_date

    try:
        born = parse_date(text) if text else None
    except ValueError_:
        return ""
    return born.isoformat() if born else ""


def linkage_run_create(*, actor: User | None) -> LinkageRun:
    if actor is not None:
        require(actor, Permission.EDIT_REGISTRY)
    if LinkageRun.objects.filter(status__in=[RunStatus.QUEUED, RunStatus.RUNNING]).exists():
        raise LinkageError("pencocokan sedang berjalan; tunggu sampai selesai")
    return LinkageRun.objects.create(actor=actor)


def linkage_run_execute(
    *, run: LinkageRun, progress: Progress | None = None, config: LinkageConfig | None = None
) -> LinkageRun:
    """Deduplicate the registry and record what was found.

    Links at or above the upper threshold are merged (each one recorded and undoable); pairs between the
    thresholds wait for a reviewer; the same valid NIK on clearly different persons is kept as a conflict.
    Pairs a reviewer already decided are not asked again.
    """
    # Splink, DuckDB and pandas take seconds to import: only the worker that runs linkage pays for them.
    from tepat.engine.linkage import LinkageConfig, dedupe

    LinkageRun.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING)

    def report(stage: str, done: int, total: int) -> None:
        LinkageRun.objects.filter(pk=run.pk).update(progress_done=done, progress_total=total)
        if progress:
            progress(stage, done, total)

    try:
        table = registry_person_table()
        result = dedupe(table, config or LinkageConfig(regions=region_codes()), progress=report)
        counts = _record(run, result.pairs, len(table))
    except Exception as exc:  # the run's row must say it failed; the error is re-raised for the worker's log
        LinkageRun.objects.filter(pk=run.pk).update(status=RunStatus.FAILED, error=str(exc)[:2000],
                                                    finished_at=timezone.now())  # fmt: skip
        raise
    LinkageRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE, persons=len(table), counts=counts, finished_at=timezone.now(),
        stats=json.loads(json.dumps(result.stats, default=str)),
    )  # fmt: skip
    run.refresh_from_db()
    audit(run.actor, AuditAction.REGISTRY_CHANGE, target=run, detail={"linkage_run": run.pk, **counts})
    _analyses_stale()
    return run


def _analyses_stale() -> None:
    """Merges move ledger rows and findings between persons: the program analyses' snapshot is refreshed now
    rather than on the next page view."""
    from tepat.programs.services import analysis_refresh_queue  # programs reads the registry: import late

    analysis_refresh_queue()


@transaction.atomic
def _record(run: LinkageRun, pairs: pa.Table, persons: int) -> dict[str, int]:
    decided = {
        (a, b)
        for a, b in MatchPair.objects.exclude(status=PairStatus.PENDING).values_list("person_a_id", "person_b_id")
    }
    MatchPair.objects.filter(status=PairStatus.PENDING).delete()  # a new run replaces the open questions
    counts = {"persons": persons, "auto_merged": 0, "review": 0, "conflict": 0, "already_decided": 0}
    to_merge: list[MatchPair] = []
    new_pairs: list[MatchPair] = []
    benefit_links: dict[int, tuple[int, MatchPair]] = {}
    for row in pairs.to_pylist():
        left, right = str(row["record_id_l"]), str(row["record_id_r"])
        if left.startswith("b") != right.startswith("b"):  # a recipient row and a person
            benefit, person = (int(left[1:]), int(right)) if left.startswith("b") else (int(right[1:]), int(left))
            if row["decision"] == "link" and benefit not in benefit_links:
                pair = MatchPair(
                    run=run,
                    person_a_id=person,
                    benefit_id=benefit,
                    layer=row["layer"] or "",
                    decision="link",
                    probability=row["match_probability"],
                    weight=row["match_weight"],
                    evidence=json.loads(row["evidence"] or "{}"),
                    status=PairStatus.AUTO_MERGED,
                )
                benefit_links[benefit] = (person, pair)
            continue
        if left.startswith("b"):
            continue  # two recipient rows: the same person twice in lists, found again once linked to the registry
        a, b = sorted((int(left), int(right)))
        if a == b:
            continue
        if (a, b) in decided:
            counts["already_decided"] += 1
            continue
        decision = row["decision"]
        status = {"link": PairStatus.AUTO_MERGED, "conflict": PairStatus.CONFLICT}.get(decision, PairStatus.PENDING)
        pair = MatchPair(run=run, person_a_id=a, person_b_id=b, layer=row["layer"] or "", decision=decision,
                         probability=row["match_probability"], weight=row["match_weight"],
                         evidence=json.loads(row["evidence"] or "{}"), status=status)  # fmt: skip
        new_pairs.append(pair)
        decided.add((a, b))
        if status == PairStatus.AUTO_MERGED:
            to_merge.append(pair)
        elif status == PairStatus.CONFLICT:
            counts["conflict"] += 1
        else:
            counts["review"] += 1
    MatchPair.objects.bulk_create([*new_pairs, *(pair for _, pair in benefit_links.values())], batch_size=2000)
    for benefit, (person, _pair) in benefit_links.items():
        Benefit.objects.filter(pk=benefit, person__isnull=True).update(person=_root(Person.objects.get(pk=person)))
    counts["recipients_linked"] = len(benefit_links)
    for pair in to_merge:
        if pair.person_b_id is None:
            continue
        survivor, merged = _survivor(pair.person_a_id, pair.person_b_id)
        if survivor is None or merged is None:
            continue
        _merge(actor=None, survivor=survivor, merged=merged, pair=pair, auto=True)
        counts["auto_merged"] += 1
    return counts


def _root(person: Person) -> Person:
    seen = set()
    while person.merged_into_id is not None and person.pk not in seen:
        seen.add(person.pk)
        person = Person.objects.get(pk=person.merged_into_id)
    return person


def _survivor(a: int, b: int) -> tuple[Person | None, Person | None]:
    """The person with a valid NIK survives (else the older record); both followed to their current survivor."""
    first, second = (_root(p) for p in Person.objects.filter(pk__in=[a, b]).order_by("pk"))
    if first.pk == second.pk:
        return None, None
    if second.nik_valid and not first.nik_valid:
        first, second = second, first
    return first, second


def _merge(*, actor: User | None, survivor: Person, merged: Person, pair: MatchPair | None, auto: bool) -> PersonMerge:
    memberships = list(Membership.objects.filter(person=merged, active=True).values_list("pk", flat=True))
    benefits = list(Benefit.objects.filter(person=merged).values_list("pk", flat=True))
    exclusions = list(Exclusion.objects.filter(person=merged).values_list("pk", flat=True))
    Membership.objects.filter(pk__in=memberships).update(active=False)
    Benefit.objects.filter(pk__in=benefits).update(person=survivor)
    Exclusion.objects.filter(pk__in=exclusions).update(person=survivor)
    Person.objects.filter(pk=merged.pk).update(merged_into=survivor, updated_at=timezone.now())
    reason = "penggabungan otomatis (linkage)" if auto else "penggabungan oleh peninjau"
    Change.objects.create(entity="person", entity_id=merged.pk, field="merged_into", old=None, new=survivor.pk,
                          actor=actor, reason=reason)  # fmt: skip
    return PersonMerge.objects.create(
        survivor=survivor, merged=merged, pair=pair, auto=auto, actor=actor,
        moved={"memberships": memberships, "benefits": benefits, "exclusions": exclusions},
    )  # fmt: skip


@transaction.atomic
def pair_decide(*, actor: User, pair: MatchPair, same_person: bool) -> MatchPair:
    """A reviewer's answer: the same person (merged, undoable) or two different persons (not asked again)."""
    require(actor, Permission.EDIT_REGISTRY)
    pair = MatchPair.objects.select_for_update().get(pk=pair.pk)
    if pair.status != PairStatus.PENDING:
        raise LinkageError(f"pasangan #{pair.pk} sudah diputuskan ({pair.get_status_display().lower()})")
    if pair.person_b_id is None:
        raise LinkageError(f"pasangan #{pair.pk} menautkan baris penerima, bukan dua orang")
    if same_person:
        survivor, merged = _survivor(pair.person_a_id, pair.person_b_id)
        if survivor is not None and merged is not None:
            _merge(actor=actor, survivor=survivor, merged=merged, pair=pair, auto=False)
    pair.status = PairStatus.MERGED if same_person else PairStatus.REJECTED
    pair.reviewed_by, pair.reviewed_at = actor, timezone.now()
    pair.save(update_fields=["status", "reviewed_by", "reviewed_at"])
    audit(actor, AuditAction.REGISTRY_CHANGE, target=pair, detail={"pair": pair.pk, "same_person": same_person})
    if same_person:
        _analyses_stale()
    return pair


@transaction.atomic
def merge_undo(*, actor: User, merge: PersonMerge) -> PersonMerge:
    """Put everything back where the merge found it; the pair goes back to the review queue."""
    require(actor, Permission.EDIT_REGISTRY)
    merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise LinkageError(f"penggabungan #{merge.pk} sudah dibatalkan")
    if PersonMerge.objects.filter(survivor=merge.merged, undone_at__isnull=True).exists():
        raise LinkageError("orang ini sudah menjadi tujuan penggabungan lain; batalkan yang itu dulu")
    moved = merge.moved
    # Memberships come back unless the person was listed actively again since (one active family per person).
    if not Membership.objects.filter(person_id=merge.merged_id, active=True).exists():
        Membership.objects.filter(pk__in=moved.get("memberships", [])).update(active=True)
    Benefit.objects.filter(pk__in=moved.get("benefits", [])).update(person=merge.merged)
    Exclusion.objects.filter(pk__in=moved.get("exclusions", [])).update(person=merge.merged)
    Person.objects.filter(pk=merge.merged_id).update(merged_into=None, updated_at=timezone.now())
    Change.objects.create(entity="person", entity_id=merge.merged_id, field="merged_into", old=merge.survivor_id,
                          new=None, actor=actor, reason=f"pembatalan penggabungan #{merge.pk}")  # fmt: skip
    merge.undone_at, merge.undone_by = timezone.now(), actor
    merge.save(update_fields=["undone_at", "undone_by"])
    if merge.pair_id:
        MatchPair.objects.filter(pk=merge.pair_id).update(status=PairStatus.PENDING, reviewed_by=None,
                                                          reviewed_at=None)  # fmt: skip
    audit(actor, AuditAction.REGISTRY_CHANGE, target=merge, detail={"merge_undone": merge.pk})
    _analyses_stale()
    return merge
