"""Writes for village proposals: recording them from an import, and each decision on their path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tepat.accounts.models import AuditAction, User
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.errors import UserError
from tepat.registry.bulk import BulkTable
from tepat.registry.models import Family, FlagKind, Membership, Person, RegistryFlag
from tepat.verification.models import (
    FOLLOW_UP,
    NEXT_STATUS,
    FieldVisit,
    Proposal,
    ProposalStatus,
    VisitOutcome,
    VisitPurpose,
    VisitSource,
)

CHUNK = 2000


class ProposalError(UserError):
    code = "proposal.state"


@dataclass(slots=True)
class ProposalIn:
    source_record: int
    action: str
    village: str
    nik: str = ""
    nik_raw: str = ""
    nik_valid: bool = False
    kk: str = ""
    name: str = ""
    reason: str = ""
    reason_text: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    line: int = 0


@dataclass
class Recorded:
    proposals: int = 0
    matched: int = 0
    unmatched_lines: list[int] = field(default_factory=list)


def proposals_record(*, batch_id: int, proposals: list[ProposalIn]) -> Recorded:
    """Keep each proposal, pointing at the registry person (valid NIK) or family (KK) it is about.

    Called by the import pipeline inside its transaction; a removal that matches nobody is kept too (the village
    may know someone the regional copy does not), and its line is reported.
    """
    niks = sorted({p.nik for p in proposals if p.nik_valid and p.nik})
    person_ids: dict[str, int] = {}
    for i in range(0, len(niks), CHUNK):
        for pk, nik in (
            Person.objects.filter(nik__in=niks[i : i + CHUNK], nik_valid=True).order_by("pk").values_list("pk", "nik")
        ):
            person_ids.setdefault(nik or "", pk)
    family_of: dict[int, int] = {}
    ids = sorted(person_ids.values())
    for i in range(0, len(ids), CHUNK):
        for person_id, family_id in Membership.objects.filter(
            person_id__in=ids[i : i + CHUNK], active=True
        ).values_list("person_id", "family_id"):
            family_of[person_id] = family_id
    kks = sorted({p.kk for p in proposals if p.kk})
    family_by_kk: dict[str, int] = {}
    for i in range(0, len(kks), CHUNK):
        for pk, kk in Family.objects.filter(kk__in=kks[i : i + CHUNK], status="active").values_list("pk", "kk"):
            family_by_kk.setdefault(kk or "", pk)
    result = Recorded()
    rows = []
    for p in proposals:
        person: int | None = person_ids.get(p.nik) if p.nik_valid else None
        family: int | None = family_of.get(person) if person else family_by_kk.get(p.kk)
        if person or family:
            result.matched += 1
        elif p.action == "remove":
            result.unmatched_lines.append(p.line)
        rows.append(
            {"action": p.action, "reason": p.reason, "reason_text": p.reason_text[:300], "nik": p.nik,
             "nik_raw": p.nik_raw[:64], "nik_valid": p.nik_valid, "kk": p.kk, "name": p.name[:200],
             "village_id": p.village, "values": p.values, "person_id": person, "family_id": family,
             "source_record_id": p.source_record, "batch_id": batch_id,
             "history": [{"status": ProposalStatus.PROPOSED.value, "at": timezone.now().isoformat(), "by": None,
                          "note": ""}]}
        )  # fmt: skip
    result.proposals = BulkTable(Proposal, assign_ids=False).insert(rows)
    return result


@transaction.atomic
def proposal_decide(*, actor: User, proposal: Proposal, approve: bool, note: str = "") -> Proposal:
    """Move a proposal one step along its path (verified → approved → ratified) or reject it, with a note.

    Rejection needs a reason: the village must be told why its proposal stopped.
    """
    require(actor, Permission.EDIT_REGISTRY)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    current = ProposalStatus(proposal.status)
    if current not in NEXT_STATUS:
        raise ProposalError(f"usulan #{proposal.pk} sudah selesai ({proposal.get_status_display().lower()})")
    if not approve and not note.strip():
        raise ProposalError("usulan yang ditolak harus diberi alasan")
    new = NEXT_STATUS[current] if approve else ProposalStatus.REJECTED
    now = timezone.now()
    proposal.status = new
    proposal.decided_by, proposal.decided_at = actor, now
    proposal.history = [*proposal.history, {"status": new.value, "at": now.isoformat(), "by": actor.username,
                                            "note": note.strip()[:500]}]  # fmt: skip
    proposal.save(update_fields=["status", "decided_by", "decided_at", "history", "updated_at"])
    audit(
        actor,
        AuditAction.PROPOSAL_DECIDE,
        target=proposal,
        detail={"proposal": proposal.pk, "from": current.value, "to": new.value, "note": note.strip()[:500]},
    )
    return proposal


class VisitError(UserError):
    code = "visit.invalid"


# Indonesia's extent, with a margin: a coordinate outside it is a swapped pair or a typo, not a house.
LATITUDE = (Decimal("-11.5"), Decimal("6.5"))
LONGITUDE = (Decimal("94.5"), Decimal("141.5"))


def _coordinate(raw: str, bounds: tuple[Decimal, Decimal], label: str) -> Decimal | None:
    raw = raw.strip().replace(",", ".")
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise VisitError(_("%(label)s bukan angka: %(raw)s") % {"label": label, "raw": raw}) from None
    if not bounds[0] <= value <= bounds[1]:
        raise VisitError(_("%(label)s %(raw)s berada di luar Indonesia.") % {"label": label, "raw": raw})
    return value.quantize(Decimal("0.000001"))


def field_visit_record(
    *,
    actor: User,
    family: Family,
    visited_on: dt.date | None,
    purpose: str,
    outcome: str,
    officer: str = "",
    notes: str = "",
    latitude: str = "",
    longitude: str = "",
    source: str = VisitSource.WEB,
) -> FieldVisit:
    """Record what an officer found at the family's house.

    The caller passes a family it obtained through the actor's scoped selector. A finding that contradicts the
    registry opens a field finding on the family; a visit that confirms the data closes the open ones. The registry
    itself is never edited here: corrections go through proposals and change requests.
    """
    require(actor, Permission.RECORD_VISITS)
    today = timezone.localdate()
    if visited_on is None:
        raise VisitError(_("Tanggal kunjungan wajib diisi."))
    if visited_on > today:
        raise VisitError(_("Tanggal kunjungan %(date)s ada di masa depan.") % {"date": visited_on.isoformat()})
    if visited_on < today - dt.timedelta(days=3 * 365):
        raise VisitError(_("Tanggal kunjungan %(date)s lebih dari tiga tahun lalu.") % {"date": visited_on.isoformat()})
    if purpose not in VisitPurpose.values:
        raise VisitError(_("Keperluan kunjungan tidak dikenal: %(value)s") % {"value": purpose})
    if outcome not in VisitOutcome.values:
        raise VisitError(_("Hasil kunjungan tidak dikenal: %(value)s") % {"value": outcome})
    lat = _coordinate(latitude, LATITUDE, _("Lintang"))
    lon = _coordinate(longitude, LONGITUDE, _("Bujur"))
    if (lat is None) != (lon is None):
        raise VisitError(_("Isi lintang dan bujur bersama-sama, atau kosongkan keduanya."))
    if outcome in FOLLOW_UP and not notes.strip():
        raise VisitError(_("Tuliskan apa yang ditemukan: hasil ini perlu ditindaklanjuti."))
    with transaction.atomic():
        visit = FieldVisit.objects.create(
            family=family,
            visited_on=visited_on,
            purpose=purpose,
            outcome=outcome,
            officer=(officer.strip() or actor.get_full_name() or actor.get_username())[:150],
            notes=notes.strip()[:1000],
            latitude=lat,
            longitude=lon,
            source=source,
            recorded_by=actor,
        )
        open_findings = RegistryFlag.objects.filter(
            family=family, kind=FlagKind.FIELD_FINDING, resolved_at__isnull=True
        )
        if outcome in FOLLOW_UP:
            RegistryFlag.objects.create(
                kind=FlagKind.FIELD_FINDING,
                family=family,
                detail={"kunjungan": visit.pk, "tanggal": visited_on.isoformat(), "hasil": visit.get_outcome_display()},
            )
        elif outcome == VisitOutcome.CONFIRMED:
            open_findings.update(resolved_at=timezone.now())
        audit(
            actor,
            AuditAction.FIELD_VISIT,
            target=visit,
            detail={"family": family.pk, "outcome": outcome, "purpose": purpose, "geotag": lat is not None},
        )
    return visit
