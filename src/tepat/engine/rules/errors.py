"""Why a rule cannot be used: a stable code for machines, a position to point at, and parameters for the sentence."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tepat.engine.rules.texts import Text, render
from tepat.errors import UserError


class RuleProblem(StrEnum):
    """Stable codes for machines; the sentence for people comes from tepat.engine.rules.texts."""

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


class RuleError(UserError):
    """A rule that cannot be used, with where (0-based ``position`` into the text) and why.

    ``problem`` is the stable code; ``key`` (the code, or the code and a ``variant`` of it) and ``detail`` are what
    the sentence is made of, so the web application can render it in the user's language; ``str()`` is Indonesian.
    """

    def __init__(
        self,
        problem: RuleProblem,
        position: int | None = None,
        end: int | None = None,
        *,
        variant: str = "",
        **detail: Any,
    ) -> None:
        self.problem = problem
        self.code = problem.value
        self.key = f"{problem.value}.{variant}" if variant else problem.value
        self.position = position
        self.end = end if end is not None else (position + 1 if position is not None else None)
        self.detail = detail
        super().__init__(self.message())

    def message(self, text: Text | None = None) -> str:
        """The sentence, with "posisi N:" in front when the problem has a place; ``text`` picks the language."""
        sentence = render(self.key, self.detail, text)
        if self.position is None:
            return sentence
        return render("rule.position", {"position": self.position + 1, "message": sentence}, text)
