"""What each import kind needs from a row, and how a row becomes registry input.

A kind says which fields are required and parses one row (already mapped to canonical fields) into the
registry writer's input, naming every problem with (row, column, code). Kinds that only update persons
(deaths) say so; the pipeline does the rest the same way for all.

Parts by concept: ``base`` (issues, cells, the handler base and the row parsers every kind shares), ``registry``
(family lists, deaths, moves, exclusions), ``programs`` (recipient lists, village proposals), ``indicators`` (BPS
series, RPJMD targets).
"""

from __future__ import annotations

from dataclasses import dataclass

from tepat.intake.kinds.base import Cells, Handler, Issue
from tepat.intake.kinds.indicators import IndicatorHandler, TargetListHandler
from tepat.intake.kinds.programs import ProgramListHandler, ProposalListHandler
from tepat.intake.kinds.registry import DeathListHandler, ExclusionListHandler, FamilyListHandler, MovedListHandler

__all__ = ["KINDS", "Cells", "Handler", "Issue", "Kind"]


@dataclass(frozen=True)
class Kind:
    code: str
    required: tuple[str, ...]
    one_of: tuple[str, ...] = ()  # at least one of these
    handler: type[Handler] = FamilyListHandler


KINDS: dict[str, Kind] = {
    # A national extract: one row per person, families by the source's family id or KK.
    "dtsen": Kind("dtsen", required=("nik", "name", "village"), one_of=("family_key", "kk")),
    # A person list (the DESIGN template): persons by NIK, families by KK; any column may be empty, but a row
    # needs a NIK or a name, and a village code to be placed.
    "person": Kind("person", required=("village",), one_of=("nik", "name")),
    "death": Kind("death", required=("nik",), handler=DeathListHandler),
    "moved": Kind("moved", required=("nik",), handler=MovedListHandler),
    "exclusion": Kind("exclusion", required=("nik", "exclusion"), handler=ExclusionListHandler),
    # One program per file (or a `program` column); `--program` / the form names it when the file does not.
    "program": Kind("program", required=(), one_of=("nik", "name"), handler=ProgramListHandler),
    # Village proposals: add/remove with a reason (a reason alone means removal).
    "proposal": Kind("proposal", required=("village",), one_of=("action", "reason"), handler=ProposalListHandler),
    # Indicator series (long format: area, indicator, year, value) and RPJMD targets (area, indicator, year, target).
    "bps": Kind("bps", required=("year",), one_of=("value", "amount"), handler=IndicatorHandler),
    "targets": Kind("targets", required=("year", "target"), handler=TargetListHandler),
}
