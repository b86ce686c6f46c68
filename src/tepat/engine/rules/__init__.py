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

The package, by concept: ``texts`` (every sentence, as keys and Indonesian templates), ``errors`` (RuleProblem,
RuleError), ``schema`` (the fields a rule may name), ``syntax`` (tokens and the tree), ``parser`` (text → checked
tree), ``evaluate`` (tree → columns), ``compiled`` (Rule: evaluation, blame, explanations, dry runs).
"""

from tepat.engine.rules.compiled import MAX_LENGTH, Clause, DryRun, RowExplanation, Rule, compile_rule
from tepat.engine.rules.errors import RuleError, RuleProblem
from tepat.engine.rules.parser import FUNCTIONS, MAX_DEPTH, MAX_LIST
from tepat.engine.rules.schema import FieldSpec, FieldType, Schema, arrow_kind
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
from tepat.engine.rules.texts import TEXTS, Text, render, show_value

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LIST",
    "TEXTS",
    "Arith",
    "Call",
    "Clause",
    "Compare",
    "DryRun",
    "FieldRef",
    "FieldSpec",
    "FieldType",
    "ListLiteral",
    "Literal_",
    "Logical",
    "Membership",
    "Negate",
    "Node",
    "Not",
    "NullTest",
    "RowExplanation",
    "Rule",
    "RuleError",
    "RuleProblem",
    "Schema",
    "Text",
    "Token",
    "arrow_kind",
    "compile_rule",
    "render",
    "show_value",
    "tokenize",
]
