"""Layers 1 and 2: the links a rule can take without weighing evidence.

Layer 1 links records with the same valid NIK, unless the records say they are different people: a child listed
under a parent's NIK, a NIK copied to a neighbour. BPK counts "one NIK, different persons" as its own finding, so
such groups are split and the conflicting pairs reported, never merged blindly.

Layer 2 links records with the same normalised name key, birth date and village, when the group holds at most one
valid NIK and does not disagree on sex, KK or mother's name: among a million people there are several with the same
common name born on the same day in a village of sixty thousand, and a rule may not choose between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from tepat.engine.linkage.graph import AnchoredClusters

# How strongly two records with the same NIK disagree: name (0-2), sex (0-1), birth date (0-2), mother (0-1).
# Typing errors score 0: the same name key, one name inside the other (a word left out), two letters changed, a
# spelling variant (key Jaro-Winkler 0.93); a date with one part wrong, day and month swapped, the year off by one.
# Names that share only a first word ("Siti Aminah" / "Siti Nurhaliza", Jaro-Winkler 0.88) score 1. Two points
# make them different persons.
_NAME_AGREES = """(a.name_key = b.name_key OR contains(a.name, b.name) OR contains(b.name, a.name)
       OR levenshtein(a.name, b.name) <= 2 OR jaro_winkler_similarity(a.name_key, b.name_key) >= 0.93)"""
_DISAGREEMENT = f"""
  (CASE
     WHEN a.name IS NULL OR b.name IS NULL OR {_NAME_AGREES} THEN 0
     WHEN jaro_winkler_similarity(a.name, b.name) >= 0.8 THEN 1
     ELSE 2 END)
  + (CASE WHEN a.sex IS NOT NULL AND b.sex IS NOT NULL AND a.sex <> b.sex THEN 1 ELSE 0 END)
  + (CASE
     WHEN a.dob IS NULL OR b.dob IS NULL OR a.dob = b.dob THEN 0
     WHEN year(a.dob) = year(b.dob) AND (month(a.dob) = month(b.dob) OR day(a.dob) = day(b.dob)
       OR (day(a.dob) = month(b.dob) AND month(a.dob) = day(b.dob))) THEN 0
     WHEN month(a.dob) = month(b.dob) AND day(a.dob) = day(b.dob) AND abs(year(a.dob) - year(b.dob)) = 1 THEN 0
     WHEN abs(year(a.dob) - year(b.dob)) >= 5 THEN 2
     ELSE 1 END)
  + (CASE
     WHEN a.mother_key IS NULL OR b.mother_key IS NULL OR a.mother_key = b.mother_key THEN 0
     WHEN contains(a.mother, b.mother) OR contains(b.mother, a.mother)
       OR jaro_winkler_similarity(a.mother_key, b.mother_key) >= 0.9 THEN 0
     ELSE 1 END)
"""
CONFLICT = 2


@dataclass(frozen=True)
class NikLayer:
    linked_groups: int  # NIK groups linked whole
    conflict_groups: int  # NIK groups with records of different persons (split)
    oversized_groups: int  # NIK groups too large to be one person (left to the other layers)


def nik_layer(con: duckdb.DuckDBPyConnection, *, max_group: int, anchored: bool = True) -> NikLayer:
    """Build `c1(rid, cluster, anchor, label)` and `nik_pairs` (pairs inside NIK groups with their disagreement).

    `label` is the identifier of the records layer 1 linked (Splink learns its m probabilities from them);
    `anchor` is the same for a NIK, but empty for a plain identifier, which anchors nobody.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE nik_size AS
        SELECT ident, count(*) AS n, min(rid) AS first FROM rec WHERE ident_ok GROUP BY ident
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE nik_members AS
        SELECT rec.rid, rec.ident, rec.name, rec.name_key, rec.sex, rec.dob, rec.mother, rec.mother_key, s.first
        FROM rec JOIN nik_size AS s USING (ident) WHERE rec.ident_ok AND s.n BETWEEN 2 AND {int(max_group)}
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE nik_pairs AS
        SELECT a.rid AS l, b.rid AS r, a.ident, {_DISAGREEMENT} AS disagreement
        FROM nik_members AS a JOIN nik_members AS b ON a.ident = b.ident AND a.rid < b.rid
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE nik_conflicted AS
        SELECT DISTINCT ident FROM nik_pairs WHERE disagreement >= {CONFLICT}
    """)
    conflicted = _split_conflicted(con)
    # Clean groups: one cluster named by its first record, labelled by the NIK; conflicted groups as split.
    label = f"""CASE WHEN sp.rid IS NOT NULL THEN sp.anchor
                     WHEN rec.ident_ok AND s.n <= {int(max_group)} AND c.ident IS NULL THEN rec.ident END"""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE c1 AS
        SELECT rec.rid,
          coalesce(sp.cluster,
                   CASE WHEN s.n BETWEEN 2 AND {int(max_group)} AND c.ident IS NULL THEN s.first ELSE rec.rid END)
            AS cluster,
          {label if anchored else "CAST(NULL AS VARCHAR)"} AS anchor,
          {label} AS label
        FROM rec
        LEFT JOIN nik_size AS s ON rec.ident_ok AND s.ident = rec.ident
        LEFT JOIN nik_conflicted AS c ON c.ident = rec.ident
        LEFT JOIN c1_split AS sp ON sp.rid = rec.rid
    """)
    counts = con.execute(f"""
        SELECT count(*) FILTER (WHERE n BETWEEN 2 AND {int(max_group)}), count(*) FILTER (WHERE n > {int(max_group)})
        FROM nik_size
    """).fetchall()[0]
    return NikLayer(linked_groups=counts[0] - conflicted, conflict_groups=conflicted, oversized_groups=counts[1])


def _split_conflicted(con: duckdb.DuckDBPyConnection) -> int:
    """Split NIK groups that hold different persons into the parts that agree (table `c1_split`).

    Each part that is consistent inside becomes a cluster; the part whose sex and birth date agree best with what
    the NIK itself encodes keeps the NIK as its anchor (the NIK is most likely theirs), the others are left free
    for layers 2 and 3 to find their own records. A part that disagrees inside is dissolved into single records.
    """
    rows = con.execute("""
        SELECT p.ident, p.l, p.r, p.disagreement FROM nik_pairs AS p JOIN nik_conflicted USING (ident)
        ORDER BY p.ident, p.l, p.r
    """).fetchall()
    # How well each record agrees with the birth date and sex that the NIK encodes (women: day + 40).
    agreement = dict(
        con.execute("""
        SELECT rec.rid,
          (CASE WHEN rec.sex IS NULL THEN 0
                WHEN (CAST(substr(rec.ident, 7, 2) AS INTEGER) > 40) = (rec.sex = 'P') THEN 1 ELSE -1 END)
          + (CASE WHEN rec.dob IS NULL THEN 0
                WHEN strftime(rec.dob, '%d%m%y')
                     = lpad(CAST(CAST(substr(rec.ident, 7, 2) AS INTEGER) % 40 AS VARCHAR), 2, '0')
                       || substr(rec.ident, 9, 4) THEN 2
                ELSE -1 END)
        FROM rec JOIN nik_conflicted USING (ident)
    """).fetchall()
    )
    groups: dict[str, list[tuple[int, int, int]]] = {}
    for ident, left, right, disagreement in rows:
        groups.setdefault(ident, []).append((left, right, disagreement))
    assignment: list[tuple[int, int, str | None]] = []
    for ident, pairs in groups.items():
        members = sorted({rid for left, right, _ in pairs for rid in (left, right)})
        parts = AnchoredClusters({})
        for left, right, disagreement in pairs:
            if disagreement < CONFLICT:
                parts.union(left, right)
        by_root: dict[int, list[int]] = {}
        for rid in members:
            by_root.setdefault(parts.find(rid), []).append(rid)
        clusters: list[list[int]] = []
        for part in by_root.values():
            inside = set(part)
            if any(d >= CONFLICT and left in inside and right in inside for left, right, d in pairs):
                clusters.extend([rid] for rid in part)
            else:
                clusters.append(part)
        owner = max(clusters, key=lambda part: (max(agreement.get(rid, 0) for rid in part), len(part), -part[0]))
        for part in clusters:
            for rid in part:
                assignment.append((rid, part[0], ident if part is owner else None))
    con.register("c1_split_arrow", pa.table({
        "rid": pa.array([a[0] for a in assignment], pa.int64()),
        "cluster": pa.array([a[1] for a in assignment], pa.int64()),
        "anchor": pa.array([a[2] for a in assignment], pa.string()),
    }))  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE c1_split AS SELECT * FROM c1_split_arrow")
    con.unregister("c1_split_arrow")
    return len(groups)


def rule_edges(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int, int, int]]:
    """Layer 2 candidates: (cluster, target cluster, record, target record) for groups of one person.

    Groups with two or more anchors are not linked here: they are written to `several_niks` (one person under
    several NIKs, or namesakes) for review.
    """
    # The group key is a 64-bit hash of (name key, birth date, area): grouping on one integer instead of three
    # columns of text, with collisions about as likely as winning the lottery twice.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE l2 AS
        SELECT hash(rec.name_key, rec.dob, rec.area) AS k, rec.rid, c1.cluster, c1.anchor, rec.sex, rec.kk,
          rec.mother_key
        FROM rec JOIN c1 USING (rid)
        WHERE rec.name_key IS NOT NULL AND length(rec.name_key) >= 3 AND rec.dob IS NOT NULL
          AND rec.area IS NOT NULL
    """)
    # min = max instead of count(DISTINCT …): the same answer ("at most one value") at a fraction of the cost.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE l2_groups AS
        SELECT k,
          coalesce(min(anchor) = max(anchor), true) AS one_anchor,
          coalesce(min(sex) = max(sex), true) AND coalesce(min(kk) = max(kk), true)
            AND coalesce(min(mother_key) = max(mother_key), true) AS agree,
          coalesce(min(cluster) FILTER (WHERE anchor IS NOT NULL), min(cluster)) AS target
        FROM l2 GROUP BY k HAVING min(cluster) <> max(cluster)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE several_niks AS
        SELECT least(a.rid, b.rid) AS l, greatest(a.rid, b.rid) AS r
        FROM l2_groups AS g JOIN l2 AS a USING (k) JOIN l2 AS b USING (k)
        WHERE NOT g.one_anchor AND a.anchor IS NOT NULL AND b.anchor IS NOT NULL AND a.anchor < b.anchor
        QUALIFY row_number() OVER (PARTITION BY a.anchor, b.anchor ORDER BY a.rid, b.rid) = 1
    """)
    return [
        (int(cluster), int(target), int(rid), int(target_rid))
        for cluster, target, rid, target_rid in con.execute("""
            WITH members AS (SELECT l2.k, l2.cluster, l2.rid, g.target FROM l2_groups AS g JOIN l2 USING (k)
                             WHERE g.one_anchor AND g.agree),
            targets AS (SELECT k, min(rid) AS target_rid FROM members WHERE cluster = target GROUP BY k)
            SELECT m.cluster, m.target, min(m.rid), min(t.target_rid)
            FROM members AS m JOIN targets AS t USING (k)
            WHERE m.cluster <> m.target
            GROUP BY m.cluster, m.target
            ORDER BY m.cluster, m.target
        """).fetchall()
    ]
