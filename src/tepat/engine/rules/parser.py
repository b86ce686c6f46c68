"""A recursive-descent parser from tokens to a typed tree, checking types and known values as it goes.

Every check that can be made without data is made here, when the rule is saved: a comparison of text with a
number, a typo in a field name or in one of a text field's known values, a list of mixed types. Each failure is a
RuleError with the span to mark in the editor.
"""

from __future__ import annotations

import difflib
from typing import Any

from tepat.engine.rules.errors import RuleError, RuleProblem
from tepat.engine.rules.schema import Schema
from tepat.engine.rules.syntax import (
    Arith,
    Call,
    Compare,
    FieldRef,
    ListLiteral,
    Literal_,
    Logical,
    Membership,
    Negate,
    Node,
    Not,
    NullTest,
    Token,
    tokenize,
)

MAX_DEPTH = 60  # nesting; keeps the recursive parser far from Python's recursion limit
MAX_LIST = 20_000  # items in one list literal (a whole regency's village codes fit)

# name -> (argument types or None for "numbers, at least two", result type or None for "type of first argument")
FUNCTIONS: dict[str, tuple[tuple[str, ...] | None, str | None]] = {
    "starts_with": (("text", "text"), "bool"),
    "abs": (("number",), "number"),
    "min": (None, "number"),
    "max": (None, "number"),
    "coalesce": (("any", "any"), None),
}
FUNCTION_ALIASES = {"diawali": "starts_with", "mulai_dengan": "starts_with", "terkecil": "min", "terbesar": "max"}


class Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.schema = schema
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    # token helpers
    @property
    def token(self) -> Token:
        return self.tokens[self.i]

    def _advance(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def _is(self, kind: str, text: str | None = None) -> bool:
        token = self.token
        return token.kind == kind and (text is None or token.text == text)

    def _expect(self, kind: str, text: str, expected: str) -> Token:
        if not self._is(kind, text):
            self._fail(expected)
        return self._advance()

    def _fail(self, expected: str) -> None:
        token = self.token
        if token.kind == "end":
            raise RuleError(RuleProblem.UNEXPECTED_END, token.start, expected=expected)
        raise RuleError(RuleProblem.SYNTAX, token.start, token.end, found=token.text, expected=expected)

    def _enter(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleError(RuleProblem.TOO_DEEP, at)

    # grammar
    def parse(self) -> Node:
        node = self._or()
        if not self._is("end"):
            self._fail("expected.and_or_end")
        return node

    def _or(self) -> Node:
        return self._logical("or", self._and)

    def _and(self) -> Node:
        return self._logical("and", self._not)

    def _logical(self, op: str, operand: Any) -> Node:
        first = operand()
        items = [first]
        while self._is("keyword", op):
            self._advance()
            items.append(operand())
        if len(items) == 1:
            return first
        for item in items:
            self.require_condition(item)
        return Logical(start=items[0].start, end=items[-1].end, type="bool", op=op, operands=tuple(items))

    def _not(self) -> Node:
        if self._is("keyword", "not"):
            start = self._advance().start
            self._enter(start)
            operand = self._not()
            self.depth -= 1
            self.require_condition(operand)
            return Not(start=start, end=operand.end, type="bool", operand=operand)
        return self._comparison()

    def _comparison(self) -> Node:
        left = self._sum()
        token = self.token
        if token.kind == "op" and token.text in ("<", "<=", ">", ">=", "==", "!="):
            self._advance()
            if self._is("keyword", "null"):
                raise RuleError(RuleProblem.NULL_COMPARISON, self.token.start, self.token.end, name=self._src(left))
            right = self._sum()
            self._check_compare(token.text, left, right, token.start)
            return Compare(start=left.start, end=right.end, type="bool", op=token.text, left=left, right=right)
        negated = False
        if (
            self._is("keyword", "not")
            and self.tokens[self.i + 1].kind == "keyword"
            and self.tokens[self.i + 1].text == "in"
        ):
            self._advance()
            negated = True
        if self._is("keyword", "in"):
            self._advance()
            values = self._list()
            self._check_membership(left, values)
            return Membership(
                start=left.start, end=values.end, type="bool", operand=left, values=values, negated=negated
            )
        if negated:
            self._fail("expected.in_after_not")
        if self._is("keyword", "is"):
            self._advance()
            is_not = False
            if self._is("keyword", "not"):
                self._advance()
                is_not = True
            end = self._expect("keyword", "null", "expected.null_after_is").end
            return NullTest(start=left.start, end=end, type="bool", operand=left, negated=is_not)
        return left

    def _sum(self) -> Node:
        node = self._product()
        while self.token.kind == "op" and self.token.text in ("+", "-"):
            op = self._advance()
            right = self._product()
            node = self._arith(op, node, right)
        return node

    def _product(self) -> Node:
        node = self._unary()
        while self.token.kind == "op" and self.token.text in ("*", "/"):
            op = self._advance()
            right = self._unary()
            node = self._arith(op, node, right)
        return node

    def _arith(self, op: Token, left: Node, right: Node) -> Node:
        for side in (left, right):
            if side.type != "number":
                raise RuleError(
                    RuleProblem.TYPE_MISMATCH,
                    side.start,
                    side.end,
                    variant="arithmetic",
                    op=op.text,
                    text=self._src(side),
                    kind=side.type,
                )
        return Arith(start=left.start, end=right.end, type="number", op=op.text, left=left, right=right)

    def _unary(self) -> Node:
        if self._is("op", "-"):
            start = self._advance().start
            self._enter(start)
            operand = self._unary()
            self.depth -= 1
            if operand.type != "number":
                raise RuleError(RuleProblem.TYPE_MISMATCH, operand.start, operand.end, variant="minus")
            if isinstance(operand, Literal_):
                return Literal_(start=start, end=operand.end, type="number", value=-operand.value)
            return Negate(start=start, end=operand.end, type="number", operand=operand)
        return self._atom()

    def _atom(self) -> Node:
        token = self.token
        if token.kind == "number":
            self._advance()
            return Literal_(start=token.start, end=token.end, type="number", value=token.value)
        if token.kind == "string":
            self._advance()
            return Literal_(start=token.start, end=token.end, type="text", value=token.value)
        if token.kind == "keyword" and token.text in ("true", "false"):
            self._advance()
            return Literal_(start=token.start, end=token.end, type="bool", value=token.text == "true")
        if token.kind == "keyword" and token.text == "null":
            raise RuleError(RuleProblem.NULL_COMPARISON, token.start, token.end, variant="bare")
        if token.kind == "op" and token.text == "(":
            self._advance()
            self._enter(token.start)
            node = self._or()
            self.depth -= 1
            close = self._expect("op", ")", "expected.close")
            node.start, node.end = token.start, close.end
            return node
        if token.kind == "op" and token.text == "[":
            raise RuleError(RuleProblem.BAD_LIST, token.start, token.end, variant="placement")
        if token.kind == "name":
            self._advance()
            if self._is("op", "("):
                return self._call(token)
            spec = self.schema.resolve(token.text)
            if spec is None:
                suggestion = self.schema.suggest(token.text)
                if suggestion:
                    raise RuleError(
                        RuleProblem.UNKNOWN_FIELD,
                        token.start,
                        token.end,
                        variant="suggestion",
                        name=token.text,
                        suggestion=suggestion,
                    )
                raise RuleError(RuleProblem.UNKNOWN_FIELD, token.start, token.end, name=token.text)
            return FieldRef(start=token.start, end=token.end, type=spec.type, name=spec.name, written=token.text)
        self._fail("expected.operand")
        raise AssertionError("unreachable")

    def _call(self, name: Token) -> Node:
        canonical = FUNCTION_ALIASES.get(name.text.lower(), name.text.lower())
        if canonical not in FUNCTIONS:
            raise RuleError(
                RuleProblem.UNKNOWN_FUNCTION, name.start, name.end, name=name.text, known=", ".join(sorted(FUNCTIONS))
            )
        self._advance()  # (
        self._enter(name.start)
        args: list[Node] = []
        if not self._is("op", ")"):
            args.append(self._or())
            while self._is("op", ","):
                self._advance()
                args.append(self._or())
        close = self._expect("op", ")", "expected.argument_end")
        self.depth -= 1
        wanted, result = FUNCTIONS[canonical]
        where = (name.start, close.end)
        if wanted is None:
            if len(args) < 2 or any(a.type != "number" for a in args):
                raise RuleError(RuleProblem.ARGUMENTS, *where, variant="numbers", name=canonical)
            out = result or "number"
        else:
            if len(args) != len(wanted):
                raise RuleError(RuleProblem.ARGUMENTS, *where, variant="count", name=canonical, count=len(wanted))
            for arg, kind in zip(args, wanted, strict=True):
                if kind != "any" and arg.type != kind:
                    raise RuleError(
                        RuleProblem.ARGUMENTS,
                        arg.start,
                        arg.end,
                        variant="type",
                        name=canonical,
                        kind=kind,
                        actual_kind=arg.type,
                    )
            if canonical == "coalesce" and args[0].type != args[1].type:
                raise RuleError(RuleProblem.ARGUMENTS, *where, variant="same_type", name=canonical)
            out = result or args[0].type
        return Call(start=name.start, end=close.end, type=out, name=canonical, args=tuple(args))

    def _list(self) -> ListLiteral:
        start = self._expect("op", "[", "expected.list").start
        values: list[Any] = []
        kinds: set[str] = set()
        positions: list[tuple[int, int]] = []
        if not self._is("op", "]"):
            while True:
                node = self._unary()
                if not isinstance(node, Literal_):
                    raise RuleError(RuleProblem.BAD_LIST, node.start, node.end, variant="literal")
                values.append(node.value)
                kinds.add(node.type)
                positions.append((node.start, node.end))
                if len(values) > MAX_LIST:
                    raise RuleError(RuleProblem.BAD_LIST, node.start, variant="too_long", limit=MAX_LIST)
                if not self._is("op", ","):
                    break
                self._advance()
                if self._is("op", "]"):
                    break  # trailing comma
        end = self._expect("op", "]", "expected.list_end").end
        if len(kinds) > 1:
            raise RuleError(RuleProblem.BAD_LIST, start, end, variant="mixed")
        item_type = kinds.pop() if kinds else "any"
        return ListLiteral(
            start=start, end=end, type="list", values=tuple(values), item_type=item_type, positions=tuple(positions)
        )

    # checks
    def _src(self, node: Node) -> str:
        return self.text[node.start : node.end]

    def require_condition(self, node: Node) -> None:
        if node.type != "bool":
            raise RuleError(RuleProblem.NOT_CONDITION, node.start, node.end, text=self._src(node), kind=node.type)

    def _check_compare(self, op: str, left: Node, right: Node, at: int) -> None:
        if left.type != right.type:
            variant = "compare"
            text_side = left if left.type == "text" else right
            if {left.type, right.type} == {"text", "number"}:
                variant = "compare_quoted_number" if isinstance(text_side, Literal_) else "compare_unquoted_text"
            raise RuleError(
                RuleProblem.TYPE_MISMATCH,
                left.start,
                right.end,
                variant=variant,
                left=self._src(left),
                left_kind=left.type,
                right=self._src(right),
                right_kind=right.type,
            )
        if left.type == "bool" and op not in ("==", "!="):
            raise RuleError(RuleProblem.TYPE_MISMATCH, at, variant="yes_no_order")
        for this, other in ((left, right), (right, left)):
            if isinstance(this, FieldRef) and isinstance(other, Literal_) and other.type == "text":
                self._check_values(this, [other.value], [(other.start, other.end)])

    def _check_membership(self, left: Node, values: ListLiteral) -> None:
        if values.values and values.item_type != left.type:
            raise RuleError(
                RuleProblem.TYPE_MISMATCH,
                values.start,
                values.end,
                variant="list",
                text=self._src(left),
                kind=left.type,
                item_kind=values.item_type,
            )
        if left.type == "bool":
            raise RuleError(RuleProblem.TYPE_MISMATCH, left.start, left.end, variant="yes_no_in")
        if isinstance(left, FieldRef) and values.item_type == "text":
            self._check_values(left, list(values.values), list(values.positions))

    def _check_values(self, ref: FieldRef, values: list[Any], positions: list[tuple[int, int]]) -> None:
        spec = self.schema.fields[ref.name]
        if spec.values is None:
            return
        known = set(spec.values)
        for value, (start, end) in zip(values, positions, strict=True):
            if value in known:
                continue
            lowered = {v.lower(): v for v in spec.values}
            suggestion = lowered.get(str(value).lower()) or next(
                iter(difflib.get_close_matches(str(value), list(spec.values), n=1, cutoff=0.6)), None
            )
            if suggestion:
                raise RuleError(
                    RuleProblem.UNKNOWN_VALUE,
                    start,
                    end,
                    variant="suggestion",
                    value=value,
                    name=ref.name,
                    suggestion=suggestion,
                )
            raise RuleError(
                RuleProblem.UNKNOWN_VALUE,
                start,
                end,
                variant="known",
                value=value,
                name=ref.name,
                known=", ".join(spec.values),
            )
