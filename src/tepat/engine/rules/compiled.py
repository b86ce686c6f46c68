"""A compiled rule: evaluation over a family table, the clause that decided each family, explanations, dry runs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.rules.errors import RuleError, RuleProblem
from tepat.engine.rules.evaluate import FALSE, NULL, TRUE, Evaluator, as_bool, broadcast, decoded, states
from tepat.engine.rules.parser import Parser
from tepat.engine.rules.schema import Schema, arrow_kind
from tepat.engine.rules.syntax import FieldRef, Literal_, Logical, Node, Not
from tepat.engine.rules.texts import Text, render, show_value

MAX_LENGTH = 4000  # characters: a rule is a sentence, not a program


@dataclass(frozen=True)
class Clause:
    """A node of the rule as people read it: its index, its text, and whether it is a condition."""

    index: int
    text: str
    condition: bool
    fields: tuple[str, ...]


@dataclass(frozen=True)
class RowExplanation:
    """Why one family is in or out: the deciding clause and every condition's value with the data it read."""

    row: int
    result: bool | None  # None: unknown because data are missing (the family is not eligible)
    decided_by: Clause
    conditions: tuple[tuple[Clause, bool | None], ...]
    values: Mapping[str, Any]

    @property
    def eligible(self) -> bool:
        return self.result is True

    @property
    def reason(self) -> tuple[str, dict[str, Any]]:
        """The explanation as a text key (tepat.engine.rules.texts) and its parameters, for any language.

        ``values`` holds (field, cell) pairs of the data the deciding clause read; ``missing`` the fields that were
        empty when the result is unknown. Cells are rendered by whoever renders the sentence (``summary``).
        """
        if self.result is None:
            missing = [name for name in self.decided_by.fields if self.values.get(name) is None]
            return "reason.unknown", {"missing": missing or None, "clause": self.decided_by.text}
        key = "reason.eligible" if self.result else "reason.not_eligible"
        shown = [(name, value) for name, value in self.values.items() if name in self.decided_by.fields]
        if shown:
            return f"{key}.data", {"clause": self.decided_by.text, "values": shown}
        return key, {"clause": self.decided_by.text}

    def summary(self, text: Text | None = None) -> str:
        """One sentence for the family page, in the language of ``text`` (default: Indonesian)."""
        key, params = self.reason
        if "values" in params:
            params = {**params, "values": ", ".join(f"{n} = {show_value(v, text)}" for n, v in params["values"])}
        if key == "reason.unknown":
            params = {**params, "missing": ", ".join(params["missing"] or [params["clause"]])}
        return render(key, params, text)


@dataclass(frozen=True)
class DryRun:
    """What a rule would do to a family table, before anyone is put on a list."""

    total: int
    eligible: int
    not_eligible: int
    unknown: int  # result unknown because data were missing: not eligible, counted apart
    by_area: pa.Table  # area, families, eligible, unknown
    reasons: tuple[tuple[Clause, int, int], ...]  # clause, families it put in, families it kept out
    examples_in: tuple[int, ...]
    examples_out: tuple[int, ...]


class Rule:
    """A parsed, type-checked rule. Build it with :func:`compile_rule`."""

    def __init__(self, text: str, root: Node, schema: Schema) -> None:
        self.text = text
        self.root = root
        self.schema = schema
        self.nodes: list[Node] = []
        self._index: dict[int, int] = {}
        self._walk(root)
        self.clauses = tuple(
            Clause(i, text[n.start : n.end].strip(), n.type == "bool", tuple(sorted(self._fields_of(n))))
            for i, n in enumerate(self.nodes)
        )
        self.fields: tuple[str, ...] = tuple(sorted(self._fields_of(root)))

    def __repr__(self) -> str:
        return f"Rule({self.text!r})"

    def _walk(self, node: Node) -> None:
        for child in node.children():
            self._walk(child)
        self._index[id(node)] = len(self.nodes)
        self.nodes.append(node)

    def _fields_of(self, node: Node) -> set[str]:
        found = {node.name} if isinstance(node, FieldRef) else set()
        for child in node.children():
            found |= self._fields_of(child)
        return found

    # evaluation --------------------------------------------------------------------------------------------------
    def check_table(self, table: pa.Table) -> None:
        """Raise RuleError when the table lacks a column the rule reads or holds it in an unusable type."""
        missing = [name for name in self.fields if name not in table.column_names]
        if missing:
            raise RuleError(RuleProblem.MISSING_COLUMN, names=", ".join(missing))
        for name in self.fields:
            wanted = self.schema.fields[name].type
            actual = arrow_kind(table.schema.field(name).type)
            if actual != wanted and not (wanted == "bool" and actual == "number"):
                raise RuleError(
                    RuleProblem.COLUMN_TYPE, name=name, actual=str(table.schema.field(name).type), kind=wanted
                )

    def evaluate_kleene(self, table: pa.Table) -> pa.BooleanArray:
        """The rule's value per family: true, false, or null where missing data leave it undecided."""
        self.check_table(table)
        values = Evaluator(table).run(self.root, {})
        return cast(pa.BooleanArray, broadcast(values, table.num_rows, pa.bool_()))

    def evaluate(self, table: pa.Table) -> np.ndarray:
        """Eligible (True) or not (False, including "unknown") per family, as a numpy bool array."""
        return states(self.evaluate_kleene(table)) == TRUE

    def states(self, table: pa.Table) -> np.ndarray:
        """int8 per family: 1 eligible, 0 not eligible, -1 unknown (missing data)."""
        return states(self.evaluate_kleene(table))

    def blame(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """(states, clause index) per family: the clause that decided each family's result.

        For a family that is out, the first condition it failed (or, in an ``or``, the alternatives as a whole);
        for a family that is in, the whole ``and`` it met or the alternative of an ``or`` that let it in. Computed
        column-wise, so a dry run over all families can count "kept out by `desil <= 4`: 31,204".
        """
        self.check_table(table)
        memo: dict[int, Any] = {}
        Evaluator(table).run(self.root, memo)
        n = table.num_rows
        state_of: dict[int, np.ndarray] = {}
        for node in self.nodes:
            if node.type == "bool":
                state_of[id(node)] = states(broadcast(memo[id(node)], n, pa.bool_()))
        return state_of[id(self.root)], self._blame(self.root, state_of, n)

    def _blame(self, node: Node, state_of: dict[int, np.ndarray], n: int) -> np.ndarray:
        me = np.full(n, self._index[id(node)], dtype=np.int32)
        if not isinstance(node, Logical):  # a `not x` is shown as written: "not flag.civil_servant" failed
            return me
        state = state_of[id(node)]
        blamed = me
        deciding = FALSE if node.op == "and" else TRUE
        for child in reversed(node.operands):  # reversed: the first deciding child wins
            child_state = state_of[id(child)]
            child_blame = self._blame(child, state_of, n)
            pick = ((state == deciding) & (child_state == deciding)) | ((state == NULL) & (child_state == NULL))
            blamed = np.where(pick, child_blame, blamed)
        return blamed

    def explain(self, table: pa.Table, rows: Sequence[int]) -> list[RowExplanation]:
        """Per-family explanations for a few rows (family page, dry-run examples)."""
        rows = list(rows)
        subset = table.select(list(self.fields)).take(pa.array(rows, type=pa.int64())) if rows else table.slice(0, 0)
        if not self.fields:
            subset = pa.table({"_": pa.nulls(len(rows))})
        decided, blamed = self.blame(subset)
        memo: dict[int, Any] = {}
        Evaluator(subset).run(self.root, memo)
        condition_states = {
            i: states(broadcast(memo[id(node)], len(rows), pa.bool_()))
            for i, node in enumerate(self.nodes)
            if node.type == "bool" and not isinstance(node, Literal_)
        }
        leaves = [i for i in condition_states if not isinstance(self.nodes[i], Logical | Not)]
        out = []
        columns = {name: subset.column(name).to_pylist() for name in self.fields}
        for k, row in enumerate(rows):
            conditions = tuple((self.clauses[i], as_bool(condition_states[i][k])) for i in leaves)
            out.append(
                RowExplanation(
                    row=row,
                    result=as_bool(decided[k]),
                    decided_by=self.clauses[int(blamed[k])],
                    conditions=conditions,
                    values={name: columns[name][k] for name in self.fields},
                )
            )
        return out

    def dry_run(self, table: pa.Table, *, area_column: str = "kode_desa", examples: int = 5, seed: int = 0) -> DryRun:
        """Counts per area, the clauses that decided, and a few example families in and out."""
        decided, blamed = self.blame(table)
        n = table.num_rows
        eligible = int((decided == TRUE).sum())
        unknown = int((decided == NULL).sum())
        if area_column in table.column_names:
            area = decoded(table.column(area_column).combine_chunks())
            encoded = pc.dictionary_encode(area, null_encoding="encode")
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            names = encoded.dictionary.to_pylist()
            families = np.bincount(codes, minlength=len(names))
            ins = np.bincount(codes, weights=decided == TRUE, minlength=len(names)).astype(np.int64)
            unk = np.bincount(codes, weights=decided == NULL, minlength=len(names)).astype(np.int64)
            keep = families > 0
            by_area = pa.table(
                {
                    "area": pa.array([names[i] for i in np.flatnonzero(keep)], type=pa.string()),
                    "families": pa.array(families[keep]),
                    "eligible": pa.array(ins[keep]),
                    "unknown": pa.array(unk[keep]),
                }
            ).sort_by("area")
        else:
            by_area = pa.table({"area": pa.array([], pa.string()), "families": [], "eligible": [], "unknown": []})
        counts_in = Counter(blamed[decided == TRUE].tolist())
        counts_out = Counter(blamed[decided != TRUE].tolist())
        reasons = tuple(
            (self.clauses[i], counts_in.get(i, 0), counts_out.get(i, 0))
            for i in sorted(set(counts_in) | set(counts_out))
        )
        rng = np.random.default_rng(seed)

        def pick(mask: np.ndarray) -> tuple[int, ...]:
            where = np.flatnonzero(mask)
            if len(where) > examples:
                where = np.sort(rng.choice(where, size=examples, replace=False))
            return tuple(int(i) for i in where)

        return DryRun(
            total=n,
            eligible=eligible,
            not_eligible=n - eligible - unknown,
            unknown=unknown,
            by_area=by_area,
            reasons=reasons,
            examples_in=pick(decided == TRUE),
            examples_out=pick(decided != TRUE),
        )


def compile_rule(text: str, schema: Schema) -> Rule:
    """Parse and type-check a rule; raises RuleError with an Indonesian message, a code and a position."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(RuleProblem.EMPTY)
    if len(text) > MAX_LENGTH:
        raise RuleError(RuleProblem.TOO_LONG, length=len(text), limit=MAX_LENGTH)
    parser = Parser(text, schema)
    root = parser.parse()
    parser.require_condition(root)
    return Rule(text, root, schema)
