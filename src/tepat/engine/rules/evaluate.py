"""Evaluating a rule's tree over whole columns with pyarrow kernels, in three-valued (Kleene) logic."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.rules.errors import RuleError, RuleProblem
from tepat.engine.rules.syntax import (
    Arith,
    Call,
    Compare,
    FieldRef,
    Literal_,
    Logical,
    Membership,
    Negate,
    Node,
    Not,
    NullTest,
)

# A family's state under a rule or one of its conditions: eligible/met, not, or unknown because data are missing.
TRUE, FALSE, NULL = np.int8(1), np.int8(0), np.int8(-1)


class Evaluator:
    """Evaluates a tree with pyarrow kernels; ``memo`` keeps every node's value for explanations."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.columns: dict[str, Any] = {}

    def run(self, node: Node, memo: dict[int, Any]) -> Any:
        value = self._eval(node, memo)
        memo[id(node)] = value
        return value

    def column(self, name: str, kind: str) -> Any:
        if name not in self.columns:
            column = self.table.column(name)
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
            if kind == "bool" and not pa.types.is_boolean(column.type):
                column = pc.not_equal(column, 0)
            self.columns[name] = column
        return self.columns[name]

    def _eval(self, node: Node, memo: dict[int, Any]) -> Any:
        if isinstance(node, Literal_):
            return pa.scalar(node.value, type=pa.float64() if node.type == "number" else None)
        if isinstance(node, FieldRef):
            return self.column(node.name, node.type)
        if isinstance(node, Logical):
            parts = [self.run(child, memo) for child in node.operands]
            combine = pc.and_kleene if node.op == "and" else pc.or_kleene
            value = parts[0]
            for part in parts[1:]:
                value = combine(value, part)
            return value
        if isinstance(node, Not):
            return pc.invert(self.run(node.operand, memo))
        if isinstance(node, Negate):
            return pc.negate(self.run(node.operand, memo))
        if isinstance(node, Compare):
            left, right = self.run(node.left, memo), self.run(node.right, memo)
            if node.op in ("==", "!=") and node.left.type == "text" and isinstance(node.right, Literal_):
                equal = is_in(left, [node.right.value])
                return pc.invert(equal) if node.op == "!=" else equal
            left, right = decoded(left), decoded(right)
            function = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
                        "==": pc.equal, "!=": pc.not_equal}[node.op]  # fmt: skip
            return function(left, right)
        if isinstance(node, Arith):
            left = as_float(self.run(node.left, memo))
            right = as_float(self.run(node.right, memo))
            function = {"+": pc.add, "-": pc.subtract, "*": pc.multiply, "/": pc.divide}[node.op]
            value = function(left, right)
            if node.op == "/":  # x / 0 is unknown, not infinity: a family of 0 members has no floor area per person
                value = pc.if_else(pc.is_finite(value), value, pa.scalar(None, pa.float64()))
            return value
        if isinstance(node, Membership):
            operand = self.run(node.operand, memo)
            memo[id(node.values)] = None
            if node.operand.type == "number":
                values: list[Any] = [float(v) for v in node.values.values]
                operand = as_float(operand)
            else:
                values = list(node.values.values)
            found = is_in(operand, values)
            return pc.invert(found) if node.negated else found
        if isinstance(node, NullTest):
            operand = self.run(node.operand, memo)
            if isinstance(operand, pa.Scalar):
                return pa.scalar(operand.is_valid == node.negated)
            return pc.is_valid(operand) if node.negated else pc.is_null(operand)
        if isinstance(node, Call):
            return self._call(node, memo)
        raise AssertionError(f"unknown node {node!r}")

    def _call(self, node: Call, memo: dict[int, Any]) -> Any:
        args = [self.run(arg, memo) for arg in node.args]
        if node.name == "starts_with":
            prefix = args[1]
            if isinstance(prefix, pa.Scalar):
                return pc.starts_with(decoded(args[0]), pattern=prefix.as_py() or "")
            raise RuleError(RuleProblem.ARGUMENTS, node.start, node.end, variant="fixed_prefix")
        if node.name == "abs":
            return pc.abs(as_float(args[0]))
        if node.name in ("min", "max"):
            function = pc.min_element_wise if node.name == "min" else pc.max_element_wise
            return function(*[as_float(a) for a in args], skip_nulls=False)
        if node.name == "coalesce":
            first, second = (decoded(a) for a in args)
            if node.type == "number":
                first, second = as_float(first), as_float(second)
            return pc.coalesce(first, second)
        raise AssertionError(node.name)


def states(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """int8 per row: TRUE, FALSE or NULL (unknown)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    filled = pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(np.int8)
    if values.null_count:
        filled[pc.is_null(values).to_numpy(zero_copy_only=False)] = NULL
    return filled


def as_bool(state: np.int8 | int) -> bool | None:
    return None if state == NULL else bool(state == TRUE)


def broadcast(value: Any, n: int, dtype: pa.DataType) -> pa.Array:
    """A node's value as an array of ``n`` rows (a literal's scalar repeated)."""
    if isinstance(value, pa.Scalar):
        return pa.array([value.as_py()] * n, type=dtype) if value.is_valid else pa.nulls(n, type=dtype)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


def decoded(value: Any) -> Any:
    if isinstance(value, pa.Array) and pa.types.is_dictionary(value.type):
        return value.dictionary_decode()
    return value


def as_float(value: Any) -> Any:
    if isinstance(value, pa.Scalar):
        return pa.scalar(None if not value.is_valid else float(value.as_py()), pa.float64())
    if pa.types.is_floating(value.type) and value.type.bit_width == 64:
        return value
    return pc.cast(value, pa.float64())


def is_in(value: Any, values: list[Any]) -> Any:
    """Membership that keeps nulls null (pyarrow's is_in says "false" for a null), fast on dictionary columns."""
    if isinstance(value, pa.Scalar):
        return pa.scalar(None, pa.bool_()) if not value.is_valid else pa.scalar(value.as_py() in values)
    if pa.types.is_dictionary(value.type):
        in_dictionary = pc.is_in(value.dictionary, value_set=pa.array(values, type=value.type.value_type))
        found = pc.take(in_dictionary, value.indices)
    else:
        value_type = value.type if values else pa.null()
        found = pc.is_in(value, value_set=pa.array(values, type=value_type if values else value.type))
    if value.null_count:
        found = pc.if_else(pc.is_valid(value), found, pa.scalar(None, pa.bool_()))
    return found
