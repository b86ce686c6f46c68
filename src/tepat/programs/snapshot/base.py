"""What the snapshot's parts share: the measures, the ledger statuses a refresh reads, the computed analysis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tepat.engine.coverage import AREA_MEASURES, PROGRAM_MEASURES, Coverage
from tepat.programs.eligibility import (
    Eligibility,
    FamilyTable,
)
from tepat.programs.models import (
    REACHED_STATUSES,
    BenefitStatus,
    Program,
)

Progress = Callable[[str, int, int], None]
T = TypeVar("T")

OWNER_TAG = "org:"  # owners ride along as strategy-like tags, so the engine counts each owner's families once
ROW_MEASURES = (*PROGRAM_MEASURES, "amount", "amount_poor")  # one program/strategy/owner row of an area
TOTAL_MEASURES = (*AREA_MEASURES, "amount", "amount_poor")
KEEP_KEYS = 12  # snapshots of this many period choices are kept; older ones are removed after a refresh
RUNNING_FOR_AT_MOST = 3 * 3600  # a snapshot "running" longer than this lost its worker


def statuses(planned: bool) -> list[str]:
    return [s.value for s in (*REACHED_STATUSES, *((BenefitStatus.PLANNED,) if planned else ()))]


@dataclass
class Computed:
    """The region's analysis for one period and status choice (not tied to a user)."""

    families: FamilyTable
    programs: list[Program]
    eligibility: Eligibility
    coverage: Coverage
    villages: list[str]
    owners: list[tuple[int, str]]
    seconds: dict[str, float]
