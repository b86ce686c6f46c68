"""`dedupe`: the three layers in order, on one in-memory DuckDB connection."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from tepat.engine.linkage import model, prepare, rules
from tepat.engine.linkage.config import Decision, Layer, LinkageConfig
from tepat.engine.linkage.graph import AnchoredClusters
from tepat.engine.linkage.result import CLUSTER_SCHEMA, PAIR_SCHEMA, LinkageResult

Progress = Callable[[str, int, int], None]
STAGE = "menautkan data"  # what the progress bar says (the CLI shows stage names as given)
_STEPS = 5


def dedupe(
    data: pa.Table | duckdb.DuckDBPyRelation,
    config: LinkageConfig | None = None,
    *,
    progress: Progress | None = None,
) -> LinkageResult:
    """Find the records of one person in a person list (or a union of lists) and give each person one cluster.

    Layer 1 links valid NIKs, layer 2 normalised name + birth date + village, layer 3 Splink's model for what the
    rules left; see the modules of this package for the reasons behind each rule.
    """
    config = config or LinkageConfig()
    table = data if isinstance(data, pa.Table) else data.to_arrow_table()
    if isinstance(table, pa.RecordBatchReader):
        table = table.read_all()
    report = progress or (lambda stage, done, total: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str, done: int) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now
        report(STAGE, done, _STEPS)

    con = duckdb.connect(config=_duckdb_settings(config))
    try:
        report(STAGE, 0, _STEPS)
        prepared = prepare.load(con, table, config)
        step("prepare", 1)
        if "ident_ok" in prepared.present:
            nik = rules.nik_layer(con, max_group=config.max_nik_group, anchored=prepared.anchors)
        else:
            nik = _no_anchors(con)
        graph = AnchoredClusters()
        step("nik", 2)

        rule_pairs: list[tuple[int, int, str]] = []
        if {"name_key", "dob", "area"} <= prepared.present:
            edges = rules.rule_edges(con)
            graph.know(_anchors(con, "c1", {cluster for edge in edges for cluster in edge[:2]}))
            for cluster, target, rid, target_rid in edges:
                decision = Decision.LINK if graph.union(cluster, target) else Decision.REVIEW
                rule_pairs.append((rid, target_rid, decision.value))
        else:
            con.execute("CREATE OR REPLACE TEMP TABLE several_niks (l BIGINT, r BIGINT)")
        _write_clusters(con, graph, "c2")
        step("rule", 3)

        model_report = _model_layer(con, prepared, config, graph)
        step("model", 4)

        _write_clusters(con, graph, "c3")
        _write_rule_pairs(con, rule_pairs)
        clusters, pairs = _results(con)
        step("result", 5)
        stats: dict[str, Any] = {
            "records": prepared.rows,
            "clusters": int(con.execute("SELECT count(DISTINCT cluster) FROM c3").fetchall()[0][0]),
            "nik_groups_linked": nik.linked_groups,
            "nik_groups_conflicting": nik.conflict_groups,
            "nik_groups_oversized": nik.oversized_groups,
            "rule_links": sum(1 for *_, d in rule_pairs if d == Decision.LINK),
            "candidate_pairs": model_report.candidates,
            "scored_pairs": model_report.scored,
            "label_pairs": model_report.label_pairs,
            "prior": model_report.prior,
            "comparisons": model_report.comparisons,
            "seconds": timings
            | {f"prepare.{k}": v for k, v in prepared.seconds.items()}
            | {f"model.{k}": v for k, v in model_report.seconds.items()},
        }
        return LinkageResult(clusters, pairs, config, stats, model_report.parameters)
    finally:
        con.close()


def _anchors(con: duckdb.DuckDBPyConnection, table: str, clusters: set[int]) -> dict[int, str | None]:
    """The anchor (valid NIK) of each of these clusters in `table` (c1 or c2)."""
    con.register("wanted_arrow", pa.table({"cluster": pa.array(sorted(clusters), pa.int64())}))
    rows = con.execute(f"""
        SELECT cluster, max(anchor) FROM {table} SEMI JOIN wanted_arrow USING (cluster) GROUP BY cluster
    """).fetchall()
    con.unregister("wanted_arrow")
    found: dict[int, str | None] = dict.fromkeys(clusters)
    found.update({int(cluster): anchor for cluster, anchor in rows})
    return found


def _duckdb_settings(config: LinkageConfig) -> dict[str, Any]:
    settings: dict[str, Any] = {"preserve_insertion_order": True}
    if config.threads:
        settings["threads"] = config.threads
    if config.memory_limit:
        settings["memory_limit"] = config.memory_limit
    return settings


def _no_anchors(con: duckdb.DuckDBPyConnection) -> rules.NikLayer:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE c1 AS
        SELECT rid, rid AS cluster, CAST(NULL AS VARCHAR) AS anchor, CAST(NULL AS VARCHAR) AS label FROM rec
    """)
    con.execute("CREATE OR REPLACE TEMP TABLE nik_pairs (l BIGINT, r BIGINT, ident VARCHAR, disagreement INTEGER)")
    return rules.NikLayer(0, 0, 0)


def _write_clusters(con: duckdb.DuckDBPyConnection, graph: AnchoredClusters, name: str) -> None:
    """`name(rid, cluster, anchor)`: c1's clusters with every union so far applied."""
    moved = list(graph.moved())
    roots = sorted({root for _, root in moved})
    con.register("moved_arrow", pa.table({
        "cluster": pa.array([cluster for cluster, _ in moved], pa.int64()),
        "root": pa.array([root for _, root in moved], pa.int64()),
    }))  # fmt: skip
    con.register("root_arrow", pa.table({
        "root": pa.array(roots, pa.int64()),
        "anchor": pa.array([graph.anchor(root) for root in roots], pa.string()),
    }))  # fmt: skip
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT c1.rid, coalesce(m.root, c1.cluster) AS cluster, coalesce(r.anchor, c1.anchor) AS anchor
        FROM c1 LEFT JOIN moved_arrow AS m ON m.cluster = c1.cluster
        LEFT JOIN root_arrow AS r ON r.root = coalesce(m.root, c1.cluster)
    """)
    con.unregister("moved_arrow")
    con.unregister("root_arrow")


def _model_layer(
    con: duckdb.DuckDBPyConnection, prepared: prepare.Prepared, config: LinkageConfig, graph: AnchoredClusters
) -> model.ModelReport:
    generic = config.fields.identifier_kind == "plain"
    candidates = model.person_comparisons() if not generic else model.generic_comparisons()
    comparisons = [c for c in candidates if c.usable(prepared.present)]
    blocking = model.GENERIC_BLOCKING if generic else model.PERSON_BLOCKING
    started = time.perf_counter()
    model.candidate_pairs(con, blocking, prepared.present, max_block=config.max_block)
    blocked = round(time.perf_counter() - started, 3)
    # One person under several NIKs: scored too, so the reviewer sees the evidence; never linked (two anchors).
    con.execute("""
        INSERT INTO cand SELECT s.l, s.r, -1 FROM several_niks AS s
        WHERE NOT EXISTS (SELECT 1 FROM cand WHERE cand.l = s.l AND cand.r = s.r)
    """)
    candidates_count = int(con.execute("SELECT count(*) FROM cand").fetchall()[0][0])
    # Pairs whose names or birth dates clearly disagree can never be linked by the model (the guards), and are not
    # worth a reviewer's time either: they are dropped before Splink scores the rest.
    possible = " AND ".join(c.possible_sql("a", "b") for c in comparisons if c.guard)
    if possible:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE cand AS
            SELECT cand.* FROM cand JOIN rec AS a ON a.rid = cand.l JOIN rec AS b ON b.rid = cand.r
            WHERE cand.rule = -1 OR {possible}
        """)
    scored_count = int(con.execute("SELECT count(*) FROM cand").fetchall()[0][0])
    if not comparisons or not scored_count:
        return model.ModelReport(comparisons=[c.name for c in comparisons], candidates=candidates_count)
    labelled = con.execute("""
        SELECT coalesce(sum(n * (n - 1) / 2), 0), coalesce(sum(n), 0)
        FROM (SELECT count(*) AS n FROM c1 WHERE label IS NOT NULL GROUP BY label)
    """).fetchall()[0]
    label_pairs, labelled_rows = int(labelled[0]), int(labelled[1])
    rows = prepared.rows
    # The share of pairs that match, from the share among records with a valid NIK (0.05 per record otherwise).
    expected = label_pairs * rows / labelled_rows if label_pairs else 0.05 * rows
    report = model.predict(
        con, comparisons=comparisons, config=config, label_pairs=label_pairs, expected_matches=expected, rows=rows
    )
    report.candidates, report.scored = candidates_count, scored_count
    report.seconds = {"blocking": blocked, **report.seconds}
    evidence = ", ".join(f"{c.name} := {c.evidence_sql('a', 'b')}" for c in comparisons)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scored_evidence AS
        SELECT s.l, s.r, s.match_probability, s.match_weight, ca.cluster AS cluster_l, cb.cluster AS cluster_r,
          struct_pack({evidence}) AS evidence
        FROM scored AS s
        JOIN model_score AS a ON a.rid = s.l JOIN model_score AS b ON b.rid = s.r
        JOIN c2 AS ca ON ca.rid = s.l JOIN c2 AS cb ON cb.rid = s.r
    """)
    guards = " AND ".join(f"evidence.{c.name} <> 'else'" for c in comparisons if c.guard) or "TRUE"
    scored = con.execute(f"""
        SELECT l, r, match_probability, cluster_l, cluster_r, {guards} AS guarded FROM scored_evidence
        ORDER BY match_probability DESC, l, r
    """).fetchall()
    graph.know(_anchors(con, "c2", {int(row[i]) for row in scored for i in (3, 4)}))
    decisions: list[tuple[int, int, str]] = []
    for left, right, probability, cluster_l, cluster_r, guarded in scored:
        decision = Decision.REVIEW
        if probability >= config.upper and guarded and graph.union(int(cluster_l), int(cluster_r)):
            decision = Decision.LINK
        decisions.append((int(left), int(right), decision.value))
    con.register("model_decisions", pa.table({
        "l": pa.array([d[0] for d in decisions], pa.int64()),
        "r": pa.array([d[1] for d in decisions], pa.int64()),
        "decision": pa.array([d[2] for d in decisions], pa.string()),
    }))  # fmt: skip
    con.execute("""
        CREATE OR REPLACE TEMP TABLE model_pairs AS
        SELECT s.l, s.r, d.decision, s.match_probability, s.match_weight, to_json(s.evidence) AS evidence
        FROM scored_evidence AS s JOIN model_decisions AS d USING (l, r)
    """)
    con.unregister("model_decisions")
    return report


def _write_rule_pairs(con: duckdb.DuckDBPyConnection, rule_pairs: list[tuple[int, int, str]]) -> None:
    con.register("rule_arrow", pa.table({
        "l": pa.array([p[0] for p in rule_pairs], pa.int64()),
        "r": pa.array([p[1] for p in rule_pairs], pa.int64()),
        "decision": pa.array([p[2] for p in rule_pairs], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE rule_pairs AS SELECT * FROM rule_arrow")
    con.unregister("rule_arrow")


def _results(con: duckdb.DuckDBPyConnection) -> tuple[pa.Table, pa.Table]:
    has_model = bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'model_pairs'").fetchall()[0][0]
    )
    model_select = (
        "SELECT l, r, 'model' AS layer, decision, match_probability, match_weight, evidence FROM model_pairs"
        if has_model
        else "SELECT NULL::BIGINT, NULL::BIGINT, NULL, NULL, NULL::DOUBLE, NULL::DOUBLE, NULL WHERE FALSE"
    )
    nik_evidence = json.dumps({"nik": "same"})
    rule_evidence = json.dumps({"name_key": "same", "dob": "same", "area": "same"})
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE all_pairs AS
        SELECT c1.cluster AS l, c1.rid AS r, '{Layer.NIK.value}' AS layer, '{Decision.LINK.value}' AS decision,
          NULL::DOUBLE AS match_probability, NULL::DOUBLE AS match_weight, '{nik_evidence}' AS evidence
        FROM c1 WHERE c1.cluster <> c1.rid  -- every record layer 1 joined to its cluster's first record
        UNION ALL
        SELECT p.l, p.r, '{Layer.NIK.value}', '{Decision.CONFLICT.value}', NULL, NULL,
          json_object('nik', 'same', 'disagreement', p.disagreement)
        FROM nik_pairs AS p JOIN c3 AS a ON a.rid = p.l JOIN c3 AS b ON b.rid = p.r
        WHERE p.disagreement >= {rules.CONFLICT} AND a.cluster <> b.cluster  -- unless the model found them one
        UNION ALL
        SELECT least(l, r), greatest(l, r), '{Layer.RULE.value}', decision, NULL, NULL, '{rule_evidence}'
        FROM rule_pairs
        UNION ALL
        {model_select}
    """)
    pairs = con.sql("""
        SELECT p.l AS row_l, p.r AS row_r, a.record_id AS record_id_l, b.record_id AS record_id_r, p.layer,
          p.decision, p.match_probability, p.match_weight, CAST(p.evidence AS VARCHAR) AS evidence
        FROM all_pairs AS p JOIN rec AS a ON a.rid = p.l JOIN rec AS b ON b.rid = p.r
        ORDER BY p.l, p.r, p.layer
    """).to_arrow_table()
    clusters = con.sql(f"""
        WITH linked AS (
          SELECT rid, min(CASE layer WHEN 'nik' THEN 1 WHEN 'rule' THEN 2 ELSE 3 END) AS strongest
          FROM (SELECT l AS rid, layer FROM all_pairs WHERE decision = '{Decision.LINK.value}'
                UNION ALL SELECT r, layer FROM all_pairs WHERE decision = '{Decision.LINK.value}')
          GROUP BY rid
        )
        SELECT c3.rid AS row, rec.record_id, dense_rank() OVER (ORDER BY c3.cluster) AS cluster_id,
          CASE linked.strongest WHEN 1 THEN 'nik' WHEN 2 THEN 'rule' WHEN 3 THEN 'model' END AS layer
        FROM c3 JOIN rec USING (rid) LEFT JOIN linked USING (rid)
        ORDER BY c3.rid
    """).to_arrow_table()
    return _as_table(clusters, CLUSTER_SCHEMA), _as_table(pairs, PAIR_SCHEMA)


def _as_table(data: Any, schema: pa.Schema) -> pa.Table:
    table = data.read_all() if isinstance(data, pa.RecordBatchReader) else data
    return table.cast(schema)
