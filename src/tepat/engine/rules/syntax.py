"""The words of the rule language (tokens) and the typed tree the parser builds from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tepat.engine.rules.errors import RuleError, RuleProblem

# ---------------------------------------------------------------------------------------------------------------
# Tokens

KEYWORDS = {
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
            keyword = KEYWORDS.get(word.lower())
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
    positions: tuple[tuple[int, int], ...] = ()  # where each item was written, to point at an unknown value


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
