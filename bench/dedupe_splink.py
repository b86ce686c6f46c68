"""Plain Splink on a person list: the baseline `bench/dedupe.py` compares Tepat's layered engine with.

What a careful analyst would write from Splink's tutorials, on the same columns: lower-cased text, Splink's own
comparison library (names with Jaro-Winkler and term frequencies, dates of birth, Levenshtein on the NIK), the usual
blocking rules, EM training blocked on NIK and on name + birth date, u by random sampling, clustering at the same
threshold as Tepat's upper one. No Indonesian name rules, no NIK validity, no layers.
"""

from __future__ import annotations

import logging

import duckdb
import pyarrow as pa
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink import comparison_library as cl

TEXT = ("nik", "no_kk", "nama", "jenis_kelamin", "tempat_lahir", "nama_ibu_kandung", "alamat", "kode_desa")


def plain_splink(table: pa.Table, *, threshold: float = 0.99, u_pairs: float = 1e7) -> list[int]:
    """A cluster id per row of a person list in the import template."""
    logging.getLogger("splink").setLevel(logging.WARNING)
    con = duckdb.connect()
    con.register("input", table)
    cleaned = ", ".join(f"nullif(lower(trim({c})), '') AS {c}" for c in TEXT if c in table.column_names)
    con.execute(f"""
        CREATE TABLE people AS
        SELECT row_number() OVER () - 1 AS unique_id, {cleaned},
          coalesce(try_strptime(tanggal_lahir, '%Y-%m-%d'), try_strptime(tanggal_lahir, '%d/%m/%Y'))::DATE
            AS tanggal_lahir
        FROM input
    """)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            cl.NameComparison("nama").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("tanggal_lahir", input_is_string=False),
            cl.LevenshteinAtThresholds("nik", [1, 2]),
            cl.ExactMatch("jenis_kelamin"),
            cl.ExactMatch("no_kk"),
            cl.JaroWinklerAtThresholds("nama_ibu_kandung", [0.9]),
            cl.ExactMatch("tempat_lahir").configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("alamat", [0.9]),
            cl.ExactMatch("kode_desa"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("nik"),
            block_on("nama", "tanggal_lahir"),
            block_on("tanggal_lahir", "kode_desa"),
            block_on("no_kk"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register("people"), settings, log_level=None)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("nik"), block_on("nama", "tanggal_lahir", "kode_desa")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=1)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("nama", "tanggal_lahir"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("nik"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    rows = con.execute(f"SELECT unique_id, cluster_id FROM {clusters.physical_name} ORDER BY unique_id").fetchall()
    labels = {cluster: index for index, cluster in enumerate(dict.fromkeys(cluster for _, cluster in rows))}
    return [labels[cluster] for _, cluster in rows]
