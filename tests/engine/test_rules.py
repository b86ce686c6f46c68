"""The eligibility rule language: parsed safely, checked on save, evaluated column-wise, and able to say why."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tepat.engine.rules import FieldSpec, RuleError, RuleProblem, Schema, compile_rule
from tepat.engine.scorecard import FAMILY_SCHEMA

SCHEMA = Schema(
    [
        FieldSpec("desil", "number", aliases=("desil_nasional",)),
        FieldSpec("school_age_children", "number", aliases=("anak_usia_sekolah",)),
        FieldSpec("members", "number", aliases=("jumlah_anggota",)),
        FieldSpec("floor_area_m2", "number"),
        FieldSpec("flag.civil_servant", "bool", aliases=("flag.asn",)),
        FieldSpec("kode_desa", "text"),
        FieldSpec("floor", "text", aliases=("jenis_lantai",), values=("Tanah", "Semen", "Keramik")),
    ]
)

# Five families: a poor one with schoolchildren, a desil-5 one, one without desil, one without children, and a
# poor family whose head is a civil servant (BPK's exclusion finding).
FAMILIES = pa.table(
    {
        "desil": pa.array([1, 5, None, 3, 2], pa.int64()),
        "school_age_children": [2, 1, 1, 0, 3],
        "members": [4, 3, 0, 2, 5],
        "floor_area_m2": [24.0, 60.0, 30.0, None, 35.0],
        "flag.civil_servant": [False, False, False, False, True],
        "kode_desa": ["64.74.03.1002", "64.74.03.1002", "64.74.01.1001", None, "64.74.03.1003"],
        "floor": pa.array(["Tanah", "Semen", None, "Keramik", "Tanah"]).dictionary_encode(),
    }
)
PKH = "desil <= 4 and school_age_children > 0 and not flag.civil_servant"


def states(text: str, table: pa.Table = FAMILIES) -> list[int]:
    return compile_rule(text, SCHEMA).states(table).tolist()


@pytest.mark.parametrize(
    "text, expected",
    [
        (PKH, [1, 0, -1, 0, 0]),
        ("desil_nasional <= 4 dan anak_usia_sekolah > 0 dan bukan flag.asn", [1, 0, -1, 0, 0]),
        ('kode_desa in ["64.74.03.1002"]', [1, 1, 0, -1, 0]),
        ('kode_desa not in ["64.74.03.1002"]', [0, 0, 1, -1, 1]),
        ('jenis_lantai = "Tanah" or desil >= 5', [1, 1, -1, 0, 1]),
        ('floor != "Tanah"', [0, 1, -1, 1, 0]),
        ("desil in [1, 2]", [1, 0, -1, 0, 1]),
        ("desil is null", [0, 0, 1, 0, 0]),
        ("desil is not null and (desil < 2 or desil > 4)", [1, 1, 0, 0, 0]),
        ("floor_area_m2 / members < 8", [1, 0, -1, -1, 1]),  # 0 members: unknown, not infinity
        ("-desil > -2", [1, 0, -1, 0, 0]),
        ("coalesce(desil, 10) <= 4", [1, 0, 0, 1, 1]),
        ('starts_with(kode_desa, "64.74.03")', [1, 1, 0, -1, 1]),
        ("max(desil, school_age_children) >= 3", [0, 1, -1, 1, 1]),
        ("flag.civil_servant == false", [1, 1, 1, 1, 0]),
        ("true", [1, 1, 1, 1, 1]),
        ("members * 2 + 1 > 8", [1, 0, 0, 0, 1]),
        ("desil <= 4 or true", [1, 1, 1, 1, 1]),  # Kleene: unknown or true is true
        ("desil <= 4 and false", [0, 0, 0, 0, 0]),  # unknown and false is false
    ],
)
def test_rules_evaluate_column_wise_with_three_valued_logic(text: str, expected: list[int]) -> None:
    assert states(text) == expected


def test_unknown_results_are_not_eligible() -> None:
    rule = compile_rule(PKH, SCHEMA)
    assert rule.evaluate(FAMILIES).tolist() == [True, False, False, False, False]
    assert rule.fields == ("desil", "flag.civil_servant", "school_age_children")


@pytest.mark.parametrize(
    "text, problem, position",
    [
        ("", RuleProblem.EMPTY, None),
        ("desil <= ", RuleProblem.UNEXPECTED_END, 9),
        ("desill <= 4", RuleProblem.UNKNOWN_FIELD, 0),
        ('desil < "3"', RuleProblem.TYPE_MISMATCH, 0),
        ("kode_desa == 6474031002", RuleProblem.TYPE_MISMATCH, 0),
        ('floor == "tanah"', RuleProblem.UNKNOWN_VALUE, 9),
        ('floor in ["Tanah", "Papan"]', RuleProblem.UNKNOWN_VALUE, 19),
        ("desil", RuleProblem.NOT_CONDITION, 0),
        ("desil <= 4 and members", RuleProblem.NOT_CONDITION, 15),
        ("desil < 1.000.000", RuleProblem.BAD_NUMBER, 8),
        ("(desil < 3", RuleProblem.UNEXPECTED_END, 10),
        ("desil < 3)", RuleProblem.SYNTAX, 9),
        ("desil @ 3", RuleProblem.BAD_CHARACTER, 6),
        ('kode_desa == "64.74', RuleProblem.UNTERMINATED_STRING, 13),
        ("desil == null", RuleProblem.NULL_COMPARISON, 9),
        ("desil in [1, 'a']", RuleProblem.BAD_LIST, 9),
        ("desil in [1, members]", RuleProblem.BAD_LIST, 13),
        ('desil in ["1"]', RuleProblem.TYPE_MISMATCH, 9),
        ("flag.civil_servant < true", RuleProblem.TYPE_MISMATCH, 19),
        ("__import__('os')", RuleProblem.UNKNOWN_FUNCTION, 0),
        ("desil.__class__ == 1", RuleProblem.UNKNOWN_FIELD, 0),
        ("abs(kode_desa) > 1", RuleProblem.ARGUMENTS, 4),
        ("[1, 2]", RuleProblem.BAD_LIST, 0),
        ("desil not 3", RuleProblem.SYNTAX, 6),
        ("(" * 100 + "true" + ")" * 100, RuleProblem.TOO_DEEP, 60),
    ],
)
def test_bad_rules_are_named_with_code_and_position(text: str, problem: RuleProblem, position: int | None) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule(text, SCHEMA)
    assert caught.value.problem == problem
    assert caught.value.code == problem.value
    assert caught.value.position == position


def test_error_messages_are_indonesian_with_a_suggestion() -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule("desill <= 4", SCHEMA)
    assert str(caught.value) == "posisi 1: nama kolom 'desill' tidak dikenal (maksud Anda 'desil'?)"
    assert caught.value.key == "rule.unknown_field.suggestion"
    assert caught.value.detail == {"name": "desill", "suggestion": "desil"}
    english = {"rule.unknown_field.suggestion": "unknown field {name!r} (did you mean {suggestion!r}?)",
               "rule.position": "position {position}: {message}"}  # fmt: skip
    assert caught.value.message(english.__getitem__) == "position 1: unknown field 'desill' (did you mean 'desil'?)"
    with pytest.raises(RuleError) as caught:
        compile_rule('floor == "tanah"', SCHEMA)
    assert "maksud Anda 'Tanah'" in str(caught.value)


def test_pasted_rules_with_typographic_quotes_and_trailing_commas_are_read() -> None:
    assert states("kode_desa in [“64.74.03.1002”, ]") == [1, 1, 0, -1, 0]


def test_a_table_without_the_columns_or_with_wrong_types_is_refused() -> None:
    rule = compile_rule(PKH, SCHEMA)
    with pytest.raises(RuleError) as caught:
        rule.evaluate(FAMILIES.drop_columns(["desil"]))
    assert caught.value.problem == RuleProblem.MISSING_COLUMN and "desil" in str(caught.value)
    with pytest.raises(RuleError) as caught:
        rule.evaluate(FAMILIES.set_column(0, "desil", pa.array(["1", "5", None, "3", "2"])))
    assert caught.value.problem == RuleProblem.COLUMN_TYPE


def test_blame_names_the_clause_that_decided_each_family() -> None:
    rule = compile_rule(PKH, SCHEMA)
    state, blamed = rule.blame(FAMILIES)
    texts = [rule.clauses[i].text for i in blamed]
    assert texts == [PKH, "desil <= 4", "desil <= 4", "school_age_children > 0", "not flag.civil_servant"]
    assert state.tolist() == [1, 0, -1, 0, 0]


def test_blame_in_an_or_points_to_the_alternative_that_let_the_family_in() -> None:
    rule = compile_rule('floor == "Tanah" or desil >= 5', SCHEMA)
    _, blamed = rule.blame(FAMILIES)
    assert [rule.clauses[i].text for i in blamed] == [
        'floor == "Tanah"',
        "desil >= 5",
        'floor == "Tanah"',  # unknown: the first alternative that could not be decided
        'floor == "Tanah" or desil >= 5',  # out: none of the alternatives
        'floor == "Tanah"',
    ]


def test_explanations_say_why_in_indonesian() -> None:
    rule = compile_rule(PKH, SCHEMA)
    explained = rule.explain(FAMILIES, [0, 1, 2, 4])
    assert [e.result for e in explained] == [True, False, None, False]
    assert explained[1].summary() == "Tidak memenuhi syarat: desil <= 4 (desil = 5)"
    assert explained[2].summary() == "Tidak dapat dinilai, data kosong: desil"
    assert explained[3].summary() == "Tidak memenuhi syarat: not flag.civil_servant (flag.civil_servant = ya)"
    assert explained[0].summary().startswith("Memenuhi syarat: ")
    conditions = {clause.text: value for clause, value in explained[1].conditions}
    assert conditions == {"desil <= 4": False, "school_age_children > 0": True, "flag.civil_servant": False}


def test_explanations_are_a_key_and_parameters_any_language_can_render() -> None:
    rule = compile_rule(PKH, SCHEMA)
    out, unknown = rule.explain(FAMILIES, [1, 2])
    assert out.reason == ("reason.not_eligible.data", {"clause": "desil <= 4", "values": [("desil", 5)]})
    assert unknown.reason == ("reason.unknown", {"missing": ["desil"], "clause": "desil <= 4"})
    english = {"reason.not_eligible.data": "Not eligible: {clause} ({values})", "value.null": "empty"}
    assert out.summary(english.__getitem__) == "Not eligible: desil <= 4 (desil = 5)"


def test_dry_run_counts_per_village_and_reasons() -> None:
    rule = compile_rule(PKH, SCHEMA)
    run = rule.dry_run(FAMILIES, examples=1)
    assert (run.total, run.eligible, run.not_eligible, run.unknown) == (5, 1, 3, 1)
    assert run.by_area.to_pylist() == [
        {"area": "64.74.01.1001", "families": 1, "eligible": 0, "unknown": 1},
        {"area": "64.74.03.1002", "families": 2, "eligible": 1, "unknown": 0},
        {"area": "64.74.03.1003", "families": 1, "eligible": 0, "unknown": 0},
        {"area": None, "families": 1, "eligible": 0, "unknown": 0},
    ]
    reasons = {clause.text: (kept_in, kept_out) for clause, kept_in, kept_out in run.reasons}
    assert reasons == {
        "desil <= 4": (0, 2),
        "school_age_children > 0": (0, 1),
        "not flag.civil_servant": (0, 1),
        PKH: (1, 0),
    }
    assert run.examples_in == (0,) and len(run.examples_out) == 1


def test_chunked_tables_and_integer_flags_are_accepted() -> None:
    chunked = pa.concat_tables([FAMILIES.slice(0, 2), FAMILIES.slice(2)])
    as_int = chunked.set_column(4, "flag.civil_servant", pa.array([0, 0, 0, 0, 1]))
    assert compile_rule(PKH, SCHEMA).states(as_int).tolist() == [1, 0, -1, 0, 0]


def test_the_family_catalogue_accepts_the_issue_examples() -> None:
    compile_rule("desil <= 4 and school_age_children > 0 and not flag.civil_servant", FAMILY_SCHEMA)
    compile_rule('kode_desa in ["64.74.03.1002"]', FAMILY_SCHEMA)
    compile_rule('jenis_lantai in ["Tanah", "Bambu"] and daya_listrik == "450 VA"', FAMILY_SCHEMA)


def test_a_schema_can_be_read_from_a_table() -> None:
    schema = Schema.from_arrow(FAMILIES.schema)
    assert compile_rule('floor == "anything" and desil < 3', schema).states(FAMILIES).tolist() == [0, 0, -1, 0, 0]


# Property: the vectorised result equals a plain Python evaluation of the same rule on each row.
_NUMBERS = st.one_of(st.none(), st.integers(min_value=-3, max_value=12))


@settings(max_examples=60, deadline=None)
@given(
    desil=st.lists(_NUMBERS, min_size=1, max_size=30),
    limit=st.integers(min_value=0, max_value=10),
    threshold=st.integers(min_value=-2, max_value=5),
    op=st.sampled_from(["and", "or"]),
    negate=st.booleans(),
)
def test_vectorised_equals_row_by_row_kleene(
    desil: list[int | None], limit: int, threshold: int, op: str, negate: bool
) -> None:
    n = len(desil)
    children = [(d * 7 + 3) % 5 if d is not None else None for d in desil]
    table = pa.table({"desil": pa.array(desil, pa.int64()), "school_age_children": pa.array(children, pa.int64())})
    text = f"{'not ' if negate else ''}(desil <= {limit} {op} school_age_children > {threshold})"

    def kleene(d: int | None, c: int | None) -> bool | None:
        a = None if d is None else d <= limit
        b = None if c is None else c > threshold
        if op == "and":
            value = False if (a is False or b is False) else (None if a is None or b is None else True)
        else:
            value = True if (a is True or b is True) else (None if a is None or b is None else False)
        return value if value is None or not negate else not value

    expected = [kleene(d, c) for d, c in zip(desil, children, strict=True)]
    got = compile_rule(text, SCHEMA).states(table)
    assert got.tolist() == [-1 if v is None else int(v) for v in expected]
    assert len(got) == n


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_any_text_either_compiles_or_raises_a_rule_error(text: str) -> None:
    try:
        rule = compile_rule(text, SCHEMA)
    except RuleError as exc:
        assert exc.code.startswith("rule.")
    else:
        assert isinstance(rule.evaluate(FAMILIES), np.ndarray)
