"""Layer 3: Splink's probabilistic linkage for the records the rules could not place.

The model is trained on the data in hand, not on a stored file: the u probabilities (how often two different people
agree by chance) come from Splink's random sampling, and the m probabilities (how often one person's records agree)
from the pairs layer 1 linked by valid NIK: every union of lists carries tens of thousands of such pairs, an honest
sample of how officers write the same person twice. Priors are blended in so that a level the labelled pairs never
showed does not become impossible. Prediction then runs only on candidate pairs with at least one record that
layers 1-2 left without a valid NIK.

Family members are the trap of Fellegi-Sunter linkage on household lists: siblings share the KK, the address, the
village and the mother's name, and summing those as independent evidence outweighs different names and birth dates
(plain Splink on the synthetic lists merges siblings by the hundred thousand). So where a family lives is one
comparison (its strongest level counts once), and a pair whose names or birth dates clearly disagree is never
linked by the model alone, whatever its probability: it goes to review.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
from splink import Linker, SettingsCreator
from splink.backends.duckdb import DuckDBAPI

from tepat.engine.linkage.config import LinkageConfig

_LEFT = re.compile(r"\b([a-z_]+?)_l\b")
_RIGHT = re.compile(r"\b([a-z_]+?)_r\b")


@dataclass(frozen=True)
class Level:
    label: str  # a stable code for the evidence (the UI translates it for the reviewer)
    sql: str
    m: float  # prior m probability: how often one person's two records reach this level
    u: float  # prior u probability: how often two different people do (small lists cannot estimate it)
    tf: str | None = None  # term-frequency adjustment column


@dataclass(frozen=True)
class Comparison:
    name: str  # output column name and evidence key
    needs: tuple[str, ...]  # evidence columns it reads: all must be present in the data (any, with `any_of`)
    null: str  # SQL: nothing to compare
    levels: tuple[Level, ...]
    else_m: float
    fixed_m: bool = False
    guard: bool = False  # the model may not link a pair whose level here is "else"
    any_of: bool = False

    def columns(self) -> set[str]:
        """The evidence columns its SQL reads."""
        sql = " ".join([self.null, *(level.sql for level in self.levels)])
        return set(_LEFT.findall(sql)) | {level.tf for level in self.levels if level.tf}

    def usable(self, present: frozenset[str]) -> bool:
        return any(c in present for c in self.needs) if self.any_of else all(c in present for c in self.needs)

    def evidence_sql(self, left: str, right: str) -> str:
        """The level a pair of records reaches, as its label, for records aliased `left` and `right`."""

        def sides(sql: str) -> str:
            return _RIGHT.sub(rf"{right}.\1", _LEFT.sub(rf"{left}.\1", sql))

        cases = " ".join(f"WHEN {sides(level.sql)} THEN '{level.label}'" for level in self.levels)
        return f"CASE WHEN {sides(self.null)} THEN 'null' {cases} ELSE 'else' END"

    def possible_sql(self, left: str, right: str) -> str:
        """True unless the pair falls to the "else" level: with a guard, the only pairs the model may link."""

        def sides(sql: str) -> str:
            return _RIGHT.sub(rf"{right}.\1", _LEFT.sub(rf"{left}.\1", sql))

        return "(" + " OR ".join(f"({sides(sql)})" for sql in [self.null, *(level.sql for level in self.levels)]) + ")"

    def splink(self) -> dict[str, Any]:
        levels: list[dict[str, Any]] = [{"sql_condition": self.null, "label_for_charts": "null", "is_null_level": True}]
        for level in self.levels:
            spec: dict[str, Any] = {
                "sql_condition": level.sql,
                "label_for_charts": level.label,
                "m_probability": level.m,
            }
            if level.tf:
                spec |= {"tf_adjustment_column": level.tf, "tf_adjustment_weight": 1.0}
            if self.fixed_m:
                spec["fix_m_probability"] = True
            levels.append(spec)
        last: dict[str, Any] = {"sql_condition": "ELSE", "label_for_charts": "else", "m_probability": self.else_m}
        if self.fixed_m:
            last["fix_m_probability"] = True
        levels.append(last)
        return {"output_column_name": self.name, "comparison_levels": levels}


def _jw(column: str, threshold: float) -> str:
    return f"jaro_winkler_similarity({column}_l, {column}_r) >= {threshold}"


def _contained(column: str) -> str:
    """One name is inside the other: a word left out ("Siti Jelita" / "Siti Jelita Palastri")."""
    return f"(contains({column}_l, {column}_r) OR contains({column}_r, {column}_l))"


def _dob_levels() -> tuple[Level, ...]:
    # dob_text is YYYYMMDD: one digit typed wrong is a Hamming distance of 1 (cheap; edit distances are not).
    return (
        Level("exact", "dob_l = dob_r", 0.93, 5e-5, tf="dob"),
        Level("one_digit", "hamming(dob_text_l, dob_text_r) <= 1", 0.03, 1e-3),
        Level(
            "day_month_swapped",
            "year(dob_l) = year(dob_r) AND day(dob_l) = month(dob_r) AND month(dob_l) = day(dob_r)",
            0.01,
            5e-6,
        ),
        Level(
            "year_off_by_one",
            "month(dob_l) = month(dob_r) AND day(dob_l) = day(dob_r) AND abs(year(dob_l) - year(dob_r)) = 1",
            0.01,
            1e-4,
        ),
        Level(
            # 1 January, 1 July, 31 December: what officers type when the day is unknown (a legacy of KTP forms)
            "default_date",
            "year(dob_l) = year(dob_r) AND (strftime(dob_l, '%m%d') IN ('0101', '0701', '1231')"
            " OR strftime(dob_r, '%m%d') IN ('0101', '0701', '1231'))",
            0.01,
            5e-4,
        ),
        Level("same_year", "year(dob_l) = year(dob_r)", 0.01, 0.015),
    )


def _name(column: str, key: str, *, tf: bool = True) -> tuple[Level, ...]:
    return (
        Level("exact", f"{column}_l = {column}_r", 0.72, 1e-3, tf=column if tf else None),
        Level("same_key", f"{key}_l = {key}_r", 0.1, 5e-4),
        Level("jw94", _jw(column, 0.94), 0.06, 1e-3),
        Level("words_left_out", _contained(column), 0.05, 3e-3),
        Level("key_jw88", _jw(key, 0.88), 0.05, 0.01),
    )


def person_comparisons() -> list[Comparison]:
    household_null = " AND ".join(
        f"({column}_l IS NULL OR {column}_r IS NULL)" for column in ("kk", "address", "village")
    )
    return [
        Comparison("name", ("name", "name_key"), "name_l IS NULL OR name_r IS NULL", _name("name", "name_key"),
                   0.02, guard=True),
        Comparison("dob", ("dob", "dob_text"), "dob_l IS NULL OR dob_r IS NULL", _dob_levels(), 0.01, guard=True),
        Comparison("sex", ("sex",), "sex_l IS NULL OR sex_r IS NULL",
                   (Level("same", "sex_l = sex_r", 0.98, 0.5),), 0.02),
        # One comparison for where a family lives, so that KK, address and village count once (module docstring).
        Comparison(
            "household",
            ("kk", "address", "village"),
            household_null,
            (
                Level("same_kk", "kk_l = kk_r", 0.75, 1e-5, tf="kk"),
                Level("same_address", "address_l = address_r AND village_l = village_r", 0.1, 1e-4),
                Level("similar_address", f"{_jw('address', 0.9)} AND village_l = village_r", 0.03, 1e-3),
                Level("same_village", "village_l = village_r", 0.07, 0.1),
                Level("same_district", "district_l = district_r", 0.02, 0.2),
            ),
            0.03,
            any_of=True,
        ),
        # The mother's name does not change when a child marries and moves; siblings share it, but a pair whose
        # names or birth dates disagree is never linked by the model (the guards above).
        Comparison(
            "mother",
            ("mother", "mother_key"),
            "mother_l IS NULL OR mother_r IS NULL",
            (
                Level("exact", "mother_l = mother_r", 0.85, 1e-3, tf="mother"),
                Level("same_key", "mother_key_l = mother_key_r", 0.06, 5e-4),
                Level("words_left_out", _contained("mother"), 0.04, 3e-3),
                Level("key_jw90", _jw("mother_key", 0.9), 0.02, 0.01),
            ),
            0.03,
        ),
        Comparison(
            "birth_place",
            ("birth_place",),
            "birth_place_l IS NULL OR birth_place_r IS NULL",
            (Level("exact", "birth_place_l = birth_place_r", 0.88, 0.1, tf="birth_place"),
             Level("jw88", _jw("birth_place", 0.88), 0.04, 0.01)),
            0.08,
        ),
    ]  # fmt: skip


def generic_comparisons() -> list[Comparison]:
    """Records of the FEBRL kind: given name and surname, date of birth, an identifier with typos, an address."""

    def text(name: str, *, tf: bool = False) -> Comparison:
        return Comparison(
            name,
            (name,),
            f"{name}_l IS NULL OR {name}_r IS NULL",
            (Level("exact", f"{name}_l = {name}_r", 0.85, 1e-3, tf=name if tf else None),
             Level("jw90", _jw(name, 0.9), 0.08, 3e-3), Level("jw75", _jw(name, 0.75), 0.03, 0.05)),
            0.04,
        )  # fmt: skip

    def part(name: str, key: str, other: str) -> Comparison:
        return Comparison(
            name,
            (name, key),
            f"{name}_l IS NULL OR {name}_r IS NULL",
            (
                Level("exact", f"{name}_l = {name}_r", 0.8, 2e-3, tf=name),
                Level("same_key", f"{key}_l = {key}_r", 0.04, 1e-3),
                Level("jw92", _jw(name, 0.92), 0.07, 3e-3),
                Level("swapped", f"{name}_l = {other}_r OR {name}_r = {other}_l", 0.02, 1e-4),
                Level("jw80", _jw(name, 0.8), 0.04, 0.03),
            ),
            0.03,
        )

    digits = "levenshtein(ident_digits_l, ident_digits_r)"
    return [
        part("given", "given_key", "surname"),
        part("surname", "surname_key", "given"),
        Comparison("dob", ("dob", "dob_text"), "dob_l IS NULL OR dob_r IS NULL", _dob_levels(), 0.01),
        Comparison(
            "identifier",
            ("ident_digits",),
            "ident_digits_l IS NULL OR ident_digits_r IS NULL",
            (
                Level("exact", "ident_digits_l = ident_digits_r", 0.85, 1e-6),
                Level("one_edit", f"{digits} <= 1", 0.08, 1e-5),
                Level("two_edits", f"{digits} <= 2", 0.03, 1e-4),
            ),
            0.04,
            fixed_m=True,  # the labelled pairs are the ones with equal identifiers: they cannot teach its m
        ),
        Comparison(
            "house_number",
            ("house_number",),
            "house_number_l IS NULL OR house_number_r IS NULL",
            (Level("exact", "house_number_l = house_number_r", 0.85, 0.01),),
            0.15,
        ),
        text("address"),
        text("locality", tf=True),
        Comparison(
            "postcode",
            ("postcode",),
            "postcode_l IS NULL OR postcode_r IS NULL",
            (
                Level("exact", "postcode_l = postcode_r", 0.88, 1e-3),
                Level("one_edit", "levenshtein(postcode_l, postcode_r) <= 1", 0.07, 0.02),
            ),
            0.05,
        ),
        Comparison(
            "region",
            ("region",),
            "region_l IS NULL OR region_r IS NULL",
            (Level("exact", "region_l = region_r", 0.95, 0.2),),
            0.05,
        ),
    ]


# Candidate pairs: each rule joins records that agree on all of its expressions.
PERSON_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("name_key", "dob"),
    ("first_key", "dob"),
    ("last_key", "dob"),
    ("dob", "village"),
    ("name_key", "village"),
    ("name_key", "year(dob)"),
    ("kk", "first_key"),
    ("mother_key", "dob"),
)
GENERIC_BLOCKING: tuple[tuple[str, ...], ...] = (
    ("given_key", "surname_key"),
    ("dob",),
    ("surname_key", "postcode"),
    ("given_key", "postcode"),
    ("ident_digits",),
    ("house_number", "postcode"),
    ("surname_key", "locality"),
    ("given_key", "locality"),
    ("surname_key", "year(dob)"),
    ("given_key", "year(dob)"),
)


@dataclass
class ModelReport:
    comparisons: list[str] = field(default_factory=list)
    candidates: int = 0  # pairs the blocking rules found
    scored: int = 0  # ... that Splink scored (names and birth dates not clearly different)
    label_pairs: int = 0
    prior: float = 0.0  # probability that two random records match
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.seconds.pop("_clock", now), 3)
        self.seconds["_clock"] = now


def _columns(expression: str) -> set[str]:
    return {expression[5:-1]} if expression.startswith("year(") else {expression}


def candidate_pairs(
    con: duckdb.DuckDBPyConnection, rules: Sequence[tuple[str, ...]], present: frozenset[str], *, max_block: int
) -> int:
    """Build `cand(l, r, rule)`: pairs of records in different clusters, at least one of them unanchored (free).

    Each rule starts from the keys of the free records (a few percent of a union of lists), so the anchored
    majority is only read where it shares a key with one of them.
    """
    usable = [rule for rule in rules if all(_columns(expression) <= present for expression in rule)]
    expressions = sorted({expression for rule in usable for expression in rule})
    if not usable:
        con.execute("CREATE OR REPLACE TEMP TABLE cand (l BIGINT, r BIGINT, rule INTEGER)")
        return 0
    key_of = {expression: f"k{i}" for i, expression in enumerate(expressions)}
    keys = ", ".join(f"{expression} AS {key_of[expression]}" for expression in expressions)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE keyed AS
        SELECT rec.rid, c2.cluster, c2.anchor IS NULL AS free, {keys} FROM rec JOIN c2 USING (rid)
    """)
    selects = []
    for index, rule in enumerate(usable):
        columns = [key_of[expression] for expression in rule]
        using = ", ".join(columns)
        not_null = " AND ".join(f"{column} IS NOT NULL" for column in columns)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE block_{index} AS
            WITH wanted AS (SELECT DISTINCT {using} FROM keyed WHERE free AND {not_null}),
            members AS (SELECT rid, cluster, free, {using} FROM keyed SEMI JOIN wanted USING ({using}))
            SELECT members.* FROM members
            SEMI JOIN (SELECT {using} FROM members GROUP BY ALL HAVING count(*) <= {int(max_block)}) USING ({using})
        """)
        on = " AND ".join(f"a.{column} = b.{column}" for column in columns)
        selects.append(f"""
            SELECT least(a.rid, b.rid) AS l, greatest(a.rid, b.rid) AS r, {index} AS rule
            FROM block_{index} AS a JOIN block_{index} AS b ON {on}
            WHERE a.free AND a.cluster <> b.cluster
        """)
    union = "\nUNION ALL\n".join(selects)
    con.execute(f"CREATE OR REPLACE TEMP TABLE cand AS SELECT l, r, min(rule) AS rule FROM ({union}) GROUP BY l, r")
    for index in range(len(usable)):
        con.execute(f"DROP TABLE block_{index}")
    con.execute("DROP TABLE keyed")
    return int(con.execute("SELECT count(*) FROM cand").fetchall()[0][0])


PSEUDO_PAIRS = 1000.0  # the weight of the u priors, in random pairs
PSEUDO_RECORDS = 1000.0  # the weight of the prior in term frequencies, in records


def _blend(settings: dict[str, Any], comparisons: Sequence[Comparison], labelled: int, sampled: float) -> None:
    """m = trained, with 1 % of the weight (at least 20 pairs' worth) on the prior; u = sampled, with the prior
    worth PSEUDO_PAIRS random pairs (a list of ten people has 45 pairs, a fair share of them matches)."""
    weight = max(20.0, 0.01 * labelled)
    for spec, comparison in zip(settings["comparisons"], comparisons, strict=True):
        levels = [level for level in spec["comparison_levels"] if not level.get("is_null_level")]
        priors = [level.m for level in comparison.levels] + [comparison.else_m]
        if not comparison.fixed_m:
            trained = [_probability(level.get("m_probability")) for level in levels]
            if labelled and sum(trained) > 0:
                blended = [
                    (labelled * t + weight * p) / (labelled + weight) for t, p in zip(trained, priors, strict=True)
                ]
            else:
                blended = list(priors)
            total = sum(blended)
            for level, value in zip(levels, blended, strict=True):
                level["m_probability"] = value / total
        u_priors = [level.u for level in comparison.levels]
        u_priors.append(max(1e-3, 1.0 - sum(u_priors)))
        sampled_u = [_probability(level.get("u_probability")) for level in levels]
        if sum(sampled_u) <= 0:
            sampled_u, sampled = u_priors, 0.0
        blended_u = [
            (sampled * u + PSEUDO_PAIRS * p) / (sampled + PSEUDO_PAIRS)
            for u, p in zip(sampled_u, u_priors, strict=True)
        ]
        total_u = sum(blended_u)
        for level, value in zip(levels, blended_u, strict=True):
            level["u_probability"] = max(value / total_u, 1e-9)


def _probability(value: object) -> float:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return 0.0  # "level not observed" or missing


def predict(
    con: duckdb.DuckDBPyConnection,
    *,
    comparisons: Sequence[Comparison],
    config: LinkageConfig,
    label_pairs: int,
    expected_matches: float,
    rows: int,
) -> ModelReport:
    """Train on this data and score `cand`; writes `scored(l, r, match_weight, match_probability)`.

    Three small Splink inputs instead of the whole table: a random sample for u, a sample of NIK-linked groups for
    m, and the records of the candidate pairs for prediction. Term frequencies are computed on all records and
    registered, so that a rare name weighs as much as it would in a full run.
    """
    logging.getLogger("splink").setLevel(logging.WARNING)
    report = ModelReport(comparisons=[c.name for c in comparisons], label_pairs=label_pairs)
    report.seconds["_clock"] = time.perf_counter()
    total_pairs = max(rows * (rows - 1) / 2, 1.0)
    report.prior = min(0.5, max(expected_matches, 1.0) / total_pairs)
    tf_priors = {level.tf: level.u for comparison in comparisons for level in comparison.levels if level.tf}
    tf_columns = sorted(tf_priors)
    for column in tf_columns:
        # Smoothed toward the prior: a list of ten people must not conclude that everyone is called Siti.
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE tf_{column} AS
            SELECT {column},
              (count(*) + {PSEUDO_RECORDS} * {tf_priors[column]}) / (sum(count(*)) OVER () + {PSEUDO_RECORDS})
                AS tf_{column}
            FROM rec WHERE {column} IS NOT NULL GROUP BY {column}
        """)
    report.lap("tf")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="rid",
        comparisons=[comparison.splink() for comparison in comparisons],
        probability_two_random_records_match=report.prior,
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )

    def linker(table: str, model: SettingsCreator | dict[str, Any]) -> tuple[Linker, DuckDBAPI]:
        db_api = DuckDBAPI(connection=con)  # one per linker: Splink caches intermediate tables per API object
        linked = Linker(db_api.register(table), model, log_level=None, validate_settings=False)
        for column in tf_columns:
            linked.table_management.register_term_frequency_lookup(db_api.register(f"tf_{column}"), column)
        return linked, db_api

    # u: a uniform sample is all random sampling needs (it draws ~sqrt(2 * u_pairs) records).
    sample = min(rows, max(20_000, int(4 * math.sqrt(2 * config.u_pairs))))  # a deterministic hash sample
    threshold = int(1_000_000 * sample / max(rows, 1))
    columns = ", ".join(sorted({"rid"} | {column for comparison in comparisons for column in comparison.columns()}))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE model_u AS
        SELECT {columns} FROM rec WHERE hash(rid, {int(config.seed)}) % 1000000 < {threshold}
    """)
    u_linker, _ = linker("model_u", settings)
    u_linker.training.estimate_u_using_random_sampling(
        max_pairs=float(config.u_pairs), seed=config.seed, min_count_per_level=None, num_chunks=1
    )
    trained = u_linker.misc.save_model_to_json()
    report.lap("u")
    if label_pairs:
        # m: whole NIK groups, a share of them chosen by a hash of the NIK so that about m_pairs pairs remain.
        share = min(1.0, config.m_pairs / label_pairs)
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE model_m AS
            WITH chosen AS (SELECT rid, label FROM c1
                            WHERE label IS NOT NULL AND (hash(label) % 1000000) < {int(share * 1_000_000)})
            SELECT {columns}, chosen.label FROM rec JOIN chosen USING (rid)
        """)
        m_linker, _ = linker("model_m", trained)
        m_linker.training.estimate_m_from_label_column("label")
        with_m = m_linker.misc.save_model_to_json()
        for spec, m_spec in zip(trained["comparisons"], with_m["comparisons"], strict=True):
            for level, m_level in zip(spec["comparison_levels"], m_spec["comparison_levels"], strict=True):
                if "m_probability" in m_level:
                    level["m_probability"] = m_level["m_probability"]
    report.lap("m")
    used_labels = min(label_pairs, config.m_pairs)
    _blend(trained, comparisons, used_labels, sampled=min(float(config.u_pairs), sample * (sample - 1) / 2))
    report.parameters = trained

    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE model_score AS
        SELECT {columns} FROM rec SEMI JOIN (SELECT l AS rid FROM cand UNION SELECT r FROM cand) USING (rid)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE cand_pairs AS
        SELECT 'rule' || rule AS match_key, l AS join_key_l, r AS join_key_r FROM cand
    """)
    scorer, scorer_api = linker("model_score", trained)
    scorer.table_management.register_blocked_pairs_for_predict(scorer_api.register("cand_pairs"))
    predictions = scorer.inference.predict(threshold_match_probability=config.lower, warning_mode="never")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scored AS
        SELECT rid_l AS l, rid_r AS r, match_weight, match_probability FROM {predictions.physical_name}
    """)
    predictions.drop_table_from_database_and_remove_from_cache()
    report.lap("predict")
    report.seconds.pop("_clock")
    return report
