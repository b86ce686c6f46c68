"""PMT scores computed outside the application (`tepat pmt score`), stored as assessments ``pmt:<model>``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts.models import AuditAction
from tepat.accounts.permissions import Permission, require
from tepat.accounts.services import audit
from tepat.registry.bulk import BulkTable
from tepat.targeting.models import PMT_PREFIX, WelfareAssessment
from tepat.targeting.services.common import TargetingError
from tepat.targeting.table import region_families

if TYPE_CHECKING:
    from tepat.accounts.models import User


@dataclass(frozen=True)
class PmtStored:
    method: str
    stored: int
    unknown_ids: int  # rows whose household_id is no active family of the region
    examples: tuple[str, ...]


def pmt_method(model: str) -> str:
    slug = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in model.strip().lower())[:60]
    if not slug.strip("_"):
        raise TargetingError("nama model PMT wajib diisi", "targeting.pmt_name")
    return f"{PMT_PREFIX}{slug}"


def pmt_scores_store(
    *, actor: User, model: str, rows: Sequence[dict[str, str]], welfare: bool, version: str = "", on: date | None = None
) -> PmtStored:
    """Store the output of `tepat pmt score` (household_id, score, rank, decile) as assessments ``pmt:<model>``.

    ``household_id`` is the family number Tepat gave the scored file (the family table export), or a KK number.
    ``welfare``: the score is per-capita welfare in rupiah a month (a ``--welfare`` model), so scenarios may use it;
    a ``--label`` model's class position is stored for ranking only. The rows of the method are replaced.
    """
    require(actor, Permission.EDIT_REGISTRY)
    method = pmt_method(model)
    if not rows or not {"household_id", "score"} <= set(rows[0]):
        raise TargetingError(
            "berkas skor harus memuat kolom household_id dan score (keluaran `tepat pmt score`)",
            "targeting.pmt_columns",
        )
    active = dict(region_families().values_list("pk", "kk"))
    by_kk = {kk: pk for pk, kk in active.items() if kk}
    found: dict[int, dict[str, Any]] = {}
    unknown: list[str] = []
    for number, row in enumerate(rows, start=2):
        ident = (row.get("household_id") or "").strip()
        pk = by_kk.get(ident) if len(ident) == 16 else (int(ident) if ident.isdigit() else None)
        if pk is None or pk not in active:
            unknown.append(ident)
            continue
        try:
            score = float((row.get("score") or "").replace(",", "."))
        except ValueError:
            raise TargetingError(
                f"baris {number}: score bukan angka: {row.get('score')!r}", "targeting.pmt_score"
            ) from None
        if not math.isfinite(score):
            raise TargetingError(f"baris {number}: score bukan angka yang sah", "targeting.pmt_score")
        decile, rank = (row.get("decile") or "").strip(), (row.get("rank") or "").strip()
        found[pk] = {
            "score": score,
            "desil": int(decile) if decile.isdigit() and 1 <= int(decile) <= 10 else None,
            "rank": int(rank) if rank.isdigit() else None,
        }
    if not found:
        raise TargetingError(
            "tidak ada household_id yang cocok dengan keluarga aktif di wilayah ini", "targeting.pmt_unmatched"
        )
    today = on or timezone.localdate()
    source = f"PMT {model.strip()}"[:300]
    with transaction.atomic():
        WelfareAssessment.objects.filter(method=method).delete()
        writer = BulkTable(WelfareAssessment, assign_ids=False)
        now = timezone.now()
        writer.insert(
            {
                "family_id": pk,
                "method": method,
                "version": version[:40],
                "assessed_on": today,
                "source": source,
                "score": values["score"],
                "desil": values["desil"],
                "rank": values["rank"],
                "explanation": {"model": model.strip(), "welfare": welfare},
                "created_at": now,
            }
            for pk, values in found.items()
        )
        audit(
            actor,
            AuditAction.TARGETING_SCORES,
            target_type="targeting.welfareassessment",
            target_id=method,
            detail={"method": method, "stored": len(found), "unknown_ids": len(unknown), "welfare": welfare},
        )
    return PmtStored(method, len(found), len(unknown), tuple(unknown[:5]))
