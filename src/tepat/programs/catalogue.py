"""The shipped catalogue: strategy tags and national programs from data/programs/, loaded idempotently.

Written against model classes passed in, so the same code runs in the data migration (historical models) and in
`tepat programs load`. A region edits its programs after loading; a later load only fills what is still empty,
unless forced, so a correction made by the TKPK is never silently undone by an upgrade.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")
FILLABLE = ("unit", "benefit_type", "value", "value_note", "period", "eligibility_rule", "eligibility_note", "source")


def alias_key(text: str) -> str:
    """How program names are compared: "Sembako (BPNT)", "SEMBAKO-BPNT" and "sembako bpnt" are one name."""
    return _NOT_ALNUM.sub("", text.upper())


@dataclass
class Catalogue:
    frameworks: list[dict[str, Any]]
    programs: list[dict[str, Any]]

    @classmethod
    def read(cls, data_dir: Path) -> Catalogue:
        folder = Path(data_dir) / "programs"
        strategies = json.loads((folder / "strategies.json").read_text(encoding="utf-8"))
        programs = json.loads((folder / "national.json").read_text(encoding="utf-8"))
        return cls(strategies["frameworks"], programs["programs"])


@dataclass
class LoadResult:
    strategies: int = 0
    created: list[str] = field(default_factory=list)
    filled: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def load_catalogue(
    catalogue: Catalogue, *, strategy_model: Any, program_model: Any, organisation_model: Any, force: bool = False
) -> LoadResult:
    result = LoadResult()
    position = 0
    for framework in catalogue.frameworks:
        for row in framework["strategies"]:
            position += 1
            strategy_model.objects.update_or_create(
                code=row["code"],
                defaults={
                    "framework": framework["code"],
                    "framework_name": framework["name"],
                    "name": row["name"],
                    "name_en": row.get("name_en", ""),
                    "short": row.get("short", row["name"][:60]),
                    "short_en": row.get("short_en", ""),
                    "position": position,
                },
            )
            result.strategies += 1
    for row in catalogue.programs:
        owner = None
        if row.get("owner"):
            owner, _ = organisation_model.objects.get_or_create(
                name=row["owner"]["name"], defaults={"kind": row["owner"]["kind"]}
            )
        values: dict[str, Any] = {name: row.get(name) for name in FILLABLE}
        values["value"] = Decimal(str(row["value"])) if row.get("value") is not None else None
        program = program_model.objects.filter(code=row["code"]).first()
        if program is None:
            program = program_model(code=row["code"])
        fresh = program.pk is None
        # A program an import created from a bare code (name == code) has nothing the region chose yet.
        bare = fresh or force or (program.name == program.code and not program.national)
        changed = False
        for name, value in values.items():
            if value in (None, ""):
                continue
            current = getattr(program, name)
            if (bare or current in (None, "")) and current != value:
                setattr(program, name, value)
                changed = True
        for name, value in (("name", row["name"]), ("funder", row["funder"])):
            if bare and getattr(program, name) != value:
                setattr(program, name, value)
                changed = True
        if owner is not None and (bare or program.organisation_id is None) and program.organisation_id != owner.pk:
            program.organisation = owner
            changed = True
        aliases = list(dict.fromkeys([*program.aliases, *row.get("aliases", [])]))
        if aliases != program.aliases:
            program.aliases = aliases
            changed = True
        if not program.national:
            program.national = True
            changed = True
        if changed or fresh:
            program.save()
        if fresh or bare or not program.strategies.exists():
            program.strategies.set(strategy_model.objects.filter(code__in=row.get("strategies", [])))
        (result.created if fresh else result.filled if changed else result.unchanged).append(row["code"])
    return result
