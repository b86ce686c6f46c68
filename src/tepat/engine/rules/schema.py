"""The fields a rule may name: their types, their Indonesian and English aliases, their known values."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

FieldType = Literal["number", "text", "bool"]


@dataclass(frozen=True)
class FieldSpec:
    """A column of the family table a rule may use. ``values`` lists the known values of a text field, so a typo
    in ``floor == "tanah"`` is caught when the rule is saved rather than silently matching nobody."""

    name: str
    type: FieldType
    label: str = ""
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] | None = None


class Schema:
    """The named fields (with Indonesian and English aliases) that rules are checked against."""

    def __init__(self, fields: Iterable[FieldSpec]) -> None:
        self.fields: dict[str, FieldSpec] = {}
        self._lookup: dict[str, str] = {}
        for spec in fields:
            self.fields[spec.name] = spec
            for name in (spec.name, *spec.aliases):
                key = name.lower()
                if key in self._lookup and self._lookup[key] != spec.name:
                    raise ValueError(f"field name {name!r} is used twice ({self._lookup[key]}, {spec.name})")
                self._lookup[key] = spec.name

    def resolve(self, name: str) -> FieldSpec | None:
        canonical = self._lookup.get(name.lower())
        return self.fields[canonical] if canonical else None

    def suggest(self, name: str) -> str | None:
        close = difflib.get_close_matches(name.lower(), list(self._lookup), n=1, cutoff=0.7)
        return self._lookup[close[0]] if close else None

    def extend(self, fields: Iterable[FieldSpec]) -> Schema:
        return Schema([*self.fields.values(), *fields])

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._lookup

    def __iter__(self) -> Iterator[FieldSpec]:
        return iter(self.fields.values())

    @classmethod
    def from_arrow(cls, schema: pa.Schema) -> Schema:
        """Every column of a table as a field: for ad-hoc rules over a file that has no catalogue."""
        specs = []
        for column in schema:
            kind = arrow_kind(column.type)
            if kind is not None:
                specs.append(FieldSpec(column.name, kind))
        return cls(specs)


def arrow_kind(dtype: pa.DataType) -> FieldType | None:
    """The rule type an Arrow column holds, or None when rules cannot read it."""
    if pa.types.is_dictionary(dtype):
        dtype = dtype.value_type
    if pa.types.is_boolean(dtype):
        return "bool"
    if pa.types.is_integer(dtype) or pa.types.is_floating(dtype) or pa.types.is_decimal(dtype):
        return "number"
    if pa.types.is_string(dtype) or pa.types.is_large_string(dtype):
        return "text"
    if pa.types.is_null(dtype):
        return "text"
    return None
