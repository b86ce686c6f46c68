"""Eligibility rules: a small, safe expression language evaluated over whole columns at once.

TKPK analysts write who a program is for in a line they can read aloud at a village meeting:

    desil <= 4 and school_age_children > 0 and not flag.civil_servant
    kode_desa in ["64.74.03.1002", "64.74.03.1003"] dan anggota_disabilitas > 0

Why a language of our own instead of Python's ``eval``: rules are typed by users and stored, so they must not be
able to reach anything but the family table (no attribute access, no imports, no loops), must fail with a message a
non-programmer understands and a position to point at, and must be checked against the fields the registry really
has *when they are saved*, not when a monthly list is produced. The text is parsed once into a typed tree; the tree
is evaluated with pyarrow kernels over a million families in well under a second, and can say for every family
which clause put it in or kept it out (BPK's recommendation: every decision explainable).

Missing data follow three-valued (Kleene) logic: ``desil <= 4`` is *unknown* when the desil is empty, and a family
whose result is unknown is not eligible, but is reported as "unknown", not "no": the data, not the family, failed.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tepat.errors import UserError

FieldType = Literal["number", "text", "bool"]
_TYPE_WORDS = {"number": "angka", "text": "teks", "bool": "ya/tidak", "null": "kosong", "list": "daftar"}

MAX_LENGTH = 4000  # characters: a rule is a sentence, not a program
MAX_DEPTH = 60  # nesting; keeps the recursive parser far from Python's recursion limit
MAX_LIST = 20_000  # items in one list literal (a whole regency's village codes fit)


class RuleProblem(StrEnum):
    """Stable codes for machines; ``message`` gives the Indonesian text for people."""

    EMPTY = "rule.empty"
    TOO_LONG = "rule.too_long"
    TOO_DEEP = "rule.too_deep"
    BAD_CHARACTER = "rule.bad_character"
    UNTERMINATED_STRING = "rule.unterminated_string"
    BAD_NUMBER = "rule.bad_number"
    SYNTAX = "rule.syntax"
    UNEXPECTED_END = "rule.unexpected_end"
    UNKNOWN_FIELD = "rule.unknown_field"
    UNKNOWN_FUNCTION = "rule.unknown_function"
    TYPE_MISMATCH = "rule.type_mismatch"
    NOT_CONDITION = "rule.not_condition"
    BAD_LIST = "rule.bad_list"
    UNKNOWN_VALUE = "rule.unknown_value"
    NULL_COMPARISON = "rule.null_comparison"
    ARGUMENTS = "rule.arguments"
    MISSING_COLUMN = "rule.missing_column"
    COLUMN_TYPE = "rule.column_type"


_MESSAGES: dict[RuleProblem, tuple[str, str]] = {
    RuleProblem.EMPTY: ("aturan kosong", "the rule is empty"),
    RuleProblem.TOO_LONG: (
        "aturan terlalu panjang ({length} karakter; batas {limit})",
        "rule too long ({length} characters; limit {limit})",
    ),
    RuleProblem.TOO_DEEP: ("tanda kurung terlalu bertingkat", "too deeply nested"),
    RuleProblem.BAD_CHARACTER: ("karakter {char!r} tidak dikenal", "unknown character {char!r}"),
    RuleProblem.UNTERMINATED_STRING: ("teks tidak ditutup tanda petik", "string not closed by a quote"),
    RuleProblem.BAD_NUMBER: (
        "tulis angka {text} tanpa pemisah ribuan, mis. {plain}",
        "write the number {text} without thousands separators, e.g. {plain}",
    ),
    RuleProblem.SYNTAX: ("{found} tidak diharapkan di sini; {expected}", "unexpected {found}; {expected}"),
    RuleProblem.UNEXPECTED_END: ("aturan berakhir terlalu cepat; {expected}", "the rule ends too early; {expected}"),
    RuleProblem.UNKNOWN_FIELD: ("nama kolom {name!r} tidak dikenal{hint}", "unknown field {name!r}{hint}"),
    RuleProblem.UNKNOWN_FUNCTION: (
        "fungsi {name!r} tidak dikenal; yang tersedia: {known}",
        "unknown function {name!r}; available: {known}",
    ),
    RuleProblem.TYPE_MISMATCH: ("{detail}", "{detail}"),
    RuleProblem.NOT_CONDITION: (
        "{text!r} bukan syarat ya/tidak (jenisnya {kind}); bandingkan dulu, mis. {text} > 0",
        "{text!r} is not a yes/no condition (it is {kind}); compare it, e.g. {text} > 0",
    ),
    RuleProblem.BAD_LIST: ("{detail}", "{detail}"),
    RuleProblem.UNKNOWN_VALUE: (
        "nilai {value!r} tidak dikenal untuk {name}{hint}",
        "unknown value {value!r} for {name}{hint}",
    ),
    RuleProblem.NULL_COMPARISON: (
        "untuk memeriksa data kosong tulis `{name} is null` atau `{name} is not null`",
        "to test for empty data write `{name} is null` or `{name} is not null`",
    ),
    RuleProblem.ARGUMENTS: ("{detail}", "{detail}"),
    RuleProblem.MISSING_COLUMN: (
        "kolom {names} tidak tersedia di data keluarga",
        "column(s) {names} not available in the family data",
    ),
    RuleProblem.COLUMN_TYPE: (
        "kolom {name} di data berjenis {actual}, padahal aturan memerlukan {expected}",
        "column {name} holds {actual} but the rule needs {expected}",
    ),
}


class RuleError(UserError):
    """A rule that cannot be used, with where (0-based ``position`` into the text) and why (``problem``)."""

    def __init__(self, problem: RuleProblem, position: int | None = None, end: int | None = None, **detail: Any):
        self.problem = problem
        self.code = problem.value
        self.position = position
        self.end = end if end is not None else (position + 1 if position is not None else None)
        self.detail = detail
        super().__init__(self.message("id"))

    def message(self, lang: str = "id") -> str:
        id_text, en_text = _MESSAGES[self.problem]
        text = (en_text if lang.lower().startswith("en") else id_text).format(**self.detail)
        if self.position is None:
            return text
        where = "position" if lang.lower().startswith("en") else "posisi"
        return f"{where} {self.position + 1}: {text}"


# ---------------------------------------------------------------------------------------------------------------
# Fields the rules may name


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
            kind = _arrow_kind(column.type)
            if kind is not None:
                specs.append(FieldSpec(column.name, kind))
        return cls(specs)


def _arrow_kind(dtype: pa.DataType) -> FieldType | None:
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


# ---------------------------------------------------------------------------------------------------------------
# Tokens

_KEYWORDS = {
    "and": "and",
    "dan": "and",
    "or": "or",
    "atau": "or",
    "not": "not",
    "bukan": "not",
    "in": "in",
    "is": "is",
    "null": "null",
    "kosong": "null",
    "true": "true",
    "benar": "true",
    "false": "false",
    "salah": "false",
}
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}  # typographic quotes arrive when rules are pasted from documents
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
   |(?P<number>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)
   |(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
   |(?P<op><=|>=|==|!=|<>|<|>|=|\(|\)|\[|\]|,|\+|-|\*|/)
    """,
    re.VERBOSE,
)
_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?![\d.])")


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, keyword, op, end
    text: str
    start: int
    end: int
    value: Any = None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char in _QUOTES:
            tokens.append(_string(text, i))
            i = tokens[-1].end
            continue
        m = _TOKEN.match(text, i)
        if m is None:
            raise RuleError(RuleProblem.BAD_CHARACTER, i, char=char)
        kind = m.lastgroup or ""
        word = m.group()
        if kind == "number":
            # 1.000.000 and 2.500 are how Indonesian documents write a million and two thousand five hundred:
            # refuse them rather than read 1.0 and a stray ".000", or 2.5.
            grouped = _GROUPED.match(text, i)
            if grouped:
                written = grouped.group()
                raise RuleError(RuleProblem.BAD_NUMBER, i, grouped.end(), text=written, plain=written.replace(".", ""))
            value: Any = float(word.replace("_", "")) if any(c in word for c in ".eE") else int(word.replace("_", ""))
            tokens.append(Token("number", word, i, m.end(), value))
        elif kind == "name":
            keyword = _KEYWORDS.get(word.lower())
            if keyword is not None:
                tokens.append(Token("keyword", keyword, i, m.end()))
            else:
                tokens.append(Token("name", word, i, m.end()))
        elif kind == "op":
            op = {"=": "==", "<>": "!="}.get(word, word)
            tokens.append(Token("op", op, i, m.end()))
        i = m.end()
    tokens.append(Token("end", "", n, n))
    return tokens


def _string(text: str, start: int) -> Token:
    close = _QUOTES[text[start]]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            continue
        if char == close or (close in "”’" and char in "\"'"):
            return Token("string", text[start : i + 1], start, i + 1, "".join(out))
        if char == "\n":
            break
        out.append(char)
        i += 1
    raise RuleError(RuleProblem.UNTERMINATED_STRING, start)


# ---------------------------------------------------------------------------------------------------------------
# The tree


@dataclass(eq=False, kw_only=True)
class Node:
    start: int
    end: int
    type: str  # number, text, bool, null, list

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(eq=False, kw_only=True)
class Literal_(Node):
    value: Any


@dataclass(eq=False, kw_only=True)
class FieldRef(Node):
    name: str  # canonical
    written: str


@dataclass(eq=False, kw_only=True)
class ListLiteral(Node):
    values: tuple[Any, ...]
    item_type: str


@dataclass(eq=False, kw_only=True)
class Not(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False, kw_only=True)
class Negate(Node):
    operand: Node

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False, kw_only=True)
class Logical(Node):
    op: str  # and, or
    operands: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.operands


@dataclass(eq=False, kw_only=True)
class Compare(Node):
    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False, kw_only=True)
class Arith(Node):
    op: str
    left: Node
    right: Node

    def children(self) -> tuple[Node, ...]:
        return (self.left, self.right)


@dataclass(eq=False, kw_only=True)
class Membership(Node):
    operand: Node
    values: ListLiteral
    negated: bool

    def children(self) -> tuple[Node, ...]:
        return (self.operand, self.values)


@dataclass(eq=False, kw_only=True)
class NullTest(Node):
    operand: Node
    negated: bool

    def children(self) -> tuple[Node, ...]:
        return (self.operand,)


@dataclass(eq=False, kw_only=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.args


# name -> (argument types or None for "numbers, at least two", result type or None for "type of first argument")
_FUNCTIONS: dict[str, tuple[tuple[str, ...] | None, str | None]] = {
    "starts_with": (("text", "text"), "bool"),
    "abs": (("number",), "number"),
    "min": (None, "number"),
    "max": (None, "number"),
    "coalesce": (("any", "any"), None),
}
_FUNCTION_ALIASES = {"diawali": "starts_with", "mulai_dengan": "starts_with", "terkecil": "min", "terbesar": "max"}


def _describe(token: Token) -> str:
    if token.kind == "end":
        return "akhir aturan"
    return f"{token.text!r}"


class _Parser:
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
        raise RuleError(RuleProblem.SYNTAX, token.start, token.end, found=_describe(token), expected=expected)

    def _enter(self, at: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RuleError(RuleProblem.TOO_DEEP, at)

    # grammar
    def parse(self) -> Node:
        node = self._or()
        if not self._is("end"):
            self._fail("diharapkan `and`/`or` atau akhir aturan")
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
            self._require_condition(item)
        return Logical(start=items[0].start, end=items[-1].end, type="bool", op=op, operands=tuple(items))

    def _not(self) -> Node:
        if self._is("keyword", "not"):
            start = self._advance().start
            self._enter(start)
            operand = self._not()
            self.depth -= 1
            self._require_condition(operand)
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
            self._fail("diharapkan `in` sesudah `not`")
        if self._is("keyword", "is"):
            self._advance()
            is_not = False
            if self._is("keyword", "not"):
                self._advance()
                is_not = True
            end = self._expect("keyword", "null", "diharapkan `null` sesudah `is`").end
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
                    detail=(
                        f"`{op.text}` hanya untuk angka, sedangkan {self._src(side)!r} "
                        f"berjenis {_TYPE_WORDS[side.type]}"
                    ),
                )
        return Arith(start=left.start, end=right.end, type="number", op=op.text, left=left, right=right)

    def _unary(self) -> Node:
        if self._is("op", "-"):
            start = self._advance().start
            self._enter(start)
            operand = self._unary()
            self.depth -= 1
            if operand.type != "number":
                raise RuleError(
                    RuleProblem.TYPE_MISMATCH, operand.start, operand.end, detail="tanda minus hanya untuk angka"
                )
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
            raise RuleError(RuleProblem.NULL_COMPARISON, token.start, token.end, name="kolom")
        if token.kind == "op" and token.text == "(":
            self._advance()
            self._enter(token.start)
            node = self._or()
            self.depth -= 1
            close = self._expect("op", ")", "diharapkan `)`")
            node.start, node.end = token.start, close.end
            return node
        if token.kind == "op" and token.text == "[":
            raise RuleError(RuleProblem.BAD_LIST, token.start, token.end, detail="daftar [..] hanya boleh sesudah `in`")
        if token.kind == "name":
            self._advance()
            if self._is("op", "("):
                return self._call(token)
            spec = self.schema.resolve(token.text)
            if spec is None:
                suggestion = self.schema.suggest(token.text)
                hint = f" (maksud Anda {suggestion!r}?)" if suggestion else ""
                raise RuleError(RuleProblem.UNKNOWN_FIELD, token.start, token.end, name=token.text, hint=hint)
            return FieldRef(start=token.start, end=token.end, type=spec.type, name=spec.name, written=token.text)
        self._fail("diharapkan nama kolom, angka, teks dalam tanda petik, atau `(`")
        raise AssertionError("unreachable")

    def _call(self, name: Token) -> Node:
        canonical = _FUNCTION_ALIASES.get(name.text.lower(), name.text.lower())
        if canonical not in _FUNCTIONS:
            raise RuleError(
                RuleProblem.UNKNOWN_FUNCTION, name.start, name.end, name=name.text, known=", ".join(sorted(_FUNCTIONS))
            )
        self._advance()  # (
        self._enter(name.start)
        args: list[Node] = []
        if not self._is("op", ")"):
            args.append(self._or())
            while self._is("op", ","):
                self._advance()
                args.append(self._or())
        close = self._expect("op", ")", "diharapkan `,` atau `)`")
        self.depth -= 1
        wanted, result = _FUNCTIONS[canonical]
        where = (name.start, close.end)
        if wanted is None:
            if len(args) < 2 or any(a.type != "number" for a in args):
                raise RuleError(RuleProblem.ARGUMENTS, *where, detail=f"{canonical}() memerlukan dua angka atau lebih")
            out = result or "number"
        else:
            if len(args) != len(wanted):
                raise RuleError(RuleProblem.ARGUMENTS, *where, detail=f"{canonical}() memerlukan {len(wanted)} argumen")
            for arg, kind in zip(args, wanted, strict=True):
                if kind != "any" and arg.type != kind:
                    raise RuleError(
                        RuleProblem.ARGUMENTS,
                        arg.start,
                        arg.end,
                        detail=f"{canonical}() memerlukan {_TYPE_WORDS[kind]}, bukan {_TYPE_WORDS[arg.type]}",
                    )
            if canonical == "coalesce" and args[0].type != args[1].type:
                raise RuleError(RuleProblem.ARGUMENTS, *where, detail="coalesce() memerlukan dua nilai sejenis")
            out = result or args[0].type
        return Call(start=name.start, end=close.end, type=out, name=canonical, args=tuple(args))

    def _list(self) -> ListLiteral:
        start = self._expect("op", "[", 'diharapkan daftar, mis. [1, 2] atau ["a", "b"]').start
        values: list[Any] = []
        kinds: set[str] = set()
        positions: list[tuple[int, int]] = []
        if not self._is("op", "]"):
            while True:
                node = self._unary()
                if not isinstance(node, Literal_):
                    raise RuleError(
                        RuleProblem.BAD_LIST, node.start, node.end, detail="isi daftar harus angka atau teks tetap"
                    )
                values.append(node.value)
                kinds.add(node.type)
                positions.append((node.start, node.end))
                if len(values) > MAX_LIST:
                    raise RuleError(RuleProblem.BAD_LIST, node.start, detail=f"daftar lebih dari {MAX_LIST} isi")
                if not self._is("op", ","):
                    break
                self._advance()
                if self._is("op", "]"):
                    break  # trailing comma
        end = self._expect("op", "]", "diharapkan `,` atau `]`").end
        if len(kinds) > 1:
            raise RuleError(
                RuleProblem.BAD_LIST, start, end, detail="isi daftar harus sejenis (semua angka atau semua teks)"
            )
        item_type = kinds.pop() if kinds else "any"
        node = ListLiteral(start=start, end=end, type="list", values=tuple(values), item_type=item_type)
        node._positions = positions  # type: ignore[attr-defined]
        return node

    # checks
    def _src(self, node: Node) -> str:
        return self.text[node.start : node.end]

    def _require_condition(self, node: Node) -> None:
        if node.type != "bool":
            raise RuleError(
                RuleProblem.NOT_CONDITION, node.start, node.end, text=self._src(node), kind=_TYPE_WORDS[node.type]
            )

    def _check_compare(self, op: str, left: Node, right: Node, at: int) -> None:
        if left.type != right.type:
            hint = ""
            text_side = left if left.type == "text" else right
            if {left.type, right.type} == {"text", "number"}:
                if isinstance(text_side, Literal_):
                    hint = "; angka ditulis tanpa tanda petik"
                else:
                    hint = '; teks ditulis dalam tanda petik, mis. "64.74.03.1002"'
            raise RuleError(
                RuleProblem.TYPE_MISMATCH,
                left.start,
                right.end,
                detail=(
                    f"{self._src(left)!r} ({_TYPE_WORDS[left.type]}) tidak bisa dibandingkan dengan "
                    f"{self._src(right)!r} ({_TYPE_WORDS[right.type]}){hint}"
                ),
            )
        if left.type == "bool" and op not in ("==", "!="):
            raise RuleError(
                RuleProblem.TYPE_MISMATCH, at, detail="nilai ya/tidak hanya bisa dibandingkan dengan == atau !="
            )
        for this, other in ((left, right), (right, left)):
            if isinstance(this, FieldRef) and isinstance(other, Literal_) and other.type == "text":
                self._check_values(this, [other.value], [(other.start, other.end)])

    def _check_membership(self, left: Node, values: ListLiteral) -> None:
        if values.values and values.item_type != left.type:
            raise RuleError(
                RuleProblem.TYPE_MISMATCH,
                values.start,
                values.end,
                detail=(
                    f"{self._src(left)!r} berjenis {_TYPE_WORDS[left.type]}, "
                    f"sedangkan isi daftar berjenis {_TYPE_WORDS[values.item_type]}"
                ),
            )
        if left.type == "bool":
            raise RuleError(RuleProblem.TYPE_MISMATCH, left.start, left.end, detail="`in` tidak untuk nilai ya/tidak")
        if isinstance(left, FieldRef) and values.item_type == "text":
            self._check_values(left, list(values.values), values._positions)  # type: ignore[attr-defined]

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
            hint = (
                f" (maksud Anda {suggestion!r}?)" if suggestion else f"; nilai yang dikenal: {', '.join(spec.values)}"
            )
            raise RuleError(RuleProblem.UNKNOWN_VALUE, start, end, value=value, name=ref.name, hint=hint)


# ---------------------------------------------------------------------------------------------------------------
# Compiled rules


_TRUE, _FALSE, _NULL = np.int8(1), np.int8(0), np.int8(-1)


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

    def summary(self) -> str:
        """One Indonesian sentence for the family page."""
        shown = ", ".join(
            f"{name} = {_show(value)}" for name, value in self.values.items() if name in self.decided_by.fields
        )
        data = f" ({shown})" if shown else ""
        if self.result is True:
            return f"Memenuhi syarat: {self.decided_by.text}{data}"
        if self.result is False:
            return f"Tidak memenuhi syarat: {self.decided_by.text}{data}"
        missing = [name for name in self.decided_by.fields if self.values.get(name) is None]
        return f"Tidak dapat dinilai, data kosong: {', '.join(missing) or self.decided_by.text}"


def _show(value: Any) -> str:
    if value is None:
        return "kosong"
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


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
            actual = _arrow_kind(table.schema.field(name).type)
            if actual != wanted and not (wanted == "bool" and actual == "number"):
                raise RuleError(
                    RuleProblem.COLUMN_TYPE,
                    name=name,
                    actual=str(table.schema.field(name).type),
                    expected=_TYPE_WORDS[wanted],
                )

    def evaluate_kleene(self, table: pa.Table) -> pa.BooleanArray:
        """The rule's value per family: true, false, or null where missing data leave it undecided."""
        self.check_table(table)
        values = _Evaluator(table).run(self.root, {})
        return cast(pa.BooleanArray, _broadcast(values, table.num_rows, pa.bool_()))

    def evaluate(self, table: pa.Table) -> np.ndarray:
        """Eligible (True) or not (False, including "unknown") per family, as a numpy bool array."""
        return _states(self.evaluate_kleene(table)) == _TRUE

    def states(self, table: pa.Table) -> np.ndarray:
        """int8 per family: 1 eligible, 0 not eligible, -1 unknown (missing data)."""
        return _states(self.evaluate_kleene(table))

    def blame(self, table: pa.Table) -> tuple[np.ndarray, np.ndarray]:
        """(states, clause index) per family: the clause that decided each family's result.

        For a family that is out, the first condition it failed (or, in an ``or``, the alternatives as a whole);
        for a family that is in, the whole ``and`` it met or the alternative of an ``or`` that let it in. Computed
        column-wise, so a dry run over all families can count "kept out by `desil <= 4`: 31,204".
        """
        self.check_table(table)
        memo: dict[int, Any] = {}
        _Evaluator(table).run(self.root, memo)
        n = table.num_rows
        state_of: dict[int, np.ndarray] = {}
        for node in self.nodes:
            if node.type == "bool":
                state_of[id(node)] = _states(_broadcast(memo[id(node)], n, pa.bool_()))
        return state_of[id(self.root)], self._blame(self.root, state_of, n)

    def _blame(self, node: Node, state_of: dict[int, np.ndarray], n: int) -> np.ndarray:
        me = np.full(n, self._index[id(node)], dtype=np.int32)
        if not isinstance(node, Logical):  # a `not x` is shown as written: "not flag.civil_servant" failed
            return me
        state = state_of[id(node)]
        blamed = me
        deciding = _FALSE if node.op == "and" else _TRUE
        for child in reversed(node.operands):  # reversed: the first deciding child wins
            child_state = state_of[id(child)]
            child_blame = self._blame(child, state_of, n)
            pick = ((state == deciding) & (child_state == deciding)) | ((state == _NULL) & (child_state == _NULL))
            blamed = np.where(pick, child_blame, blamed)
        return blamed

    def explain(self, table: pa.Table, rows: Sequence[int]) -> list[RowExplanation]:
        """Per-family explanations for a few rows (family page, dry-run examples)."""
        rows = list(rows)
        subset = table.select(list(self.fields)).take(pa.array(rows, type=pa.int64())) if rows else table.slice(0, 0)
        if not self.fields:
            subset = pa.table({"_": pa.nulls(len(rows))})
        states, blamed = self.blame(subset)
        memo: dict[int, Any] = {}
        _Evaluator(subset).run(self.root, memo)
        condition_states = {
            i: _states(_broadcast(memo[id(node)], len(rows), pa.bool_()))
            for i, node in enumerate(self.nodes)
            if node.type == "bool" and not isinstance(node, Literal_)
        }
        leaves = [i for i in condition_states if not isinstance(self.nodes[i], Logical | Not)]
        out = []
        columns = {name: subset.column(name).to_pylist() for name in self.fields}
        for k, row in enumerate(rows):
            conditions = tuple((self.clauses[i], _as_bool(condition_states[i][k])) for i in leaves)
            out.append(
                RowExplanation(
                    row=row,
                    result=_as_bool(states[k]),
                    decided_by=self.clauses[int(blamed[k])],
                    conditions=conditions,
                    values={name: columns[name][k] for name in self.fields},
                )
            )
        return out

    def dry_run(self, table: pa.Table, *, area_column: str = "kode_desa", examples: int = 5, seed: int = 0) -> DryRun:
        """Counts per area, the clauses that decided, and a few example families in and out."""
        states, blamed = self.blame(table)
        n = table.num_rows
        eligible = int((states == _TRUE).sum())
        unknown = int((states == _NULL).sum())
        if area_column in table.column_names:
            area = _decoded(table.column(area_column).combine_chunks())
            encoded = pc.dictionary_encode(area, null_encoding="encode")
            codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            names = encoded.dictionary.to_pylist()
            families = np.bincount(codes, minlength=len(names))
            ins = np.bincount(codes, weights=states == _TRUE, minlength=len(names)).astype(np.int64)
            unk = np.bincount(codes, weights=states == _NULL, minlength=len(names)).astype(np.int64)
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
        counts_in = Counter(blamed[states == _TRUE].tolist())
        counts_out = Counter(blamed[states != _TRUE].tolist())
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
            examples_in=pick(states == _TRUE),
            examples_out=pick(states != _TRUE),
        )


def compile_rule(text: str, schema: Schema) -> Rule:
    """Parse and type-check a rule; raises RuleError with an Indonesian message, a code and a position."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(RuleProblem.EMPTY)
    if len(text) > MAX_LENGTH:
        raise RuleError(RuleProblem.TOO_LONG, length=len(text), limit=MAX_LENGTH)
    parser = _Parser(text, schema)
    root = parser.parse()
    parser._require_condition(root)
    return Rule(text, root, schema)


def _as_bool(state: np.int8 | int) -> bool | None:
    return None if state == _NULL else bool(state == _TRUE)


def _states(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    filled = pc.fill_null(values, False).to_numpy(zero_copy_only=False).astype(np.int8)
    if values.null_count:
        filled[pc.is_null(values).to_numpy(zero_copy_only=False)] = _NULL
    return filled


def _broadcast(value: Any, n: int, dtype: pa.DataType) -> pa.Array:
    if isinstance(value, pa.Scalar):
        return pa.array([value.as_py()] * n, type=dtype) if value.is_valid else pa.nulls(n, type=dtype)
    if isinstance(value, pa.ChunkedArray):
        return value.combine_chunks()
    return value


class _Evaluator:
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
                equal = _is_in(left, [node.right.value])
                return pc.invert(equal) if node.op == "!=" else equal
            left, right = _decoded(left), _decoded(right)
            function = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
                        "==": pc.equal, "!=": pc.not_equal}[node.op]  # fmt: skip
            return function(left, right)
        if isinstance(node, Arith):
            left = _as_float(self.run(node.left, memo))
            right = _as_float(self.run(node.right, memo))
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
                operand = _as_float(operand)
            else:
                values = list(node.values.values)
            found = _is_in(operand, values)
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
                return pc.starts_with(_decoded(args[0]), pattern=prefix.as_py() or "")
            raise RuleError(RuleProblem.ARGUMENTS, node.start, node.end, detail="starts_with() memerlukan awalan tetap")
        if node.name == "abs":
            return pc.abs(_as_float(args[0]))
        if node.name in ("min", "max"):
            function = pc.min_element_wise if node.name == "min" else pc.max_element_wise
            return function(*[_as_float(a) for a in args], skip_nulls=False)
        if node.name == "coalesce":
            first, second = (_decoded(a) for a in args)
            if node.type == "number":
                first, second = _as_float(first), _as_float(second)
            return pc.coalesce(first, second)
        raise AssertionError(node.name)


def _decoded(value: Any) -> Any:
    if isinstance(value, pa.Array) and pa.types.is_dictionary(value.type):
        return value.dictionary_decode()
    return value


def _as_float(value: Any) -> Any:
    if isinstance(value, pa.Scalar):
        return pa.scalar(None if not value.is_valid else float(value.as_py()), pa.float64())
    if pa.types.is_floating(value.type) and value.type.bit_width == 64:
        return value
    return pc.cast(value, pa.float64())


def _is_in(value: Any, values: list[Any]) -> Any:
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
