"""What a linkage run hands back: a cluster per record, and the pairs that explain (or question) the clusters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tepat.engine.linkage.config import Decision, LinkageConfig

CLUSTER_SCHEMA = pa.schema(
    [
        ("row", pa.int64()),  # position in the input, 0-based
        ("record_id", pa.string()),  # as the input wrote it (the 1-based row number when there is no such column)
        ("cluster_id", pa.int64()),  # 1, 2, … in order of each cluster's first record
        ("layer", pa.string()),  # the strongest layer that linked this record to another; null when alone
    ]
)
PAIR_SCHEMA = pa.schema(
    [
        ("row_l", pa.int64()),
        ("row_r", pa.int64()),
        ("record_id_l", pa.string()),
        ("record_id_r", pa.string()),
        ("layer", pa.string()),  # Layer: nik, rule, model
        ("decision", pa.string()),  # Decision: link, review, conflict
        ("match_probability", pa.float64()),  # Splink's, for every pair the model scored; null for rule-only pairs
        ("match_weight", pa.float64()),
        ("evidence", pa.string()),  # JSON object: comparison -> level ("name": "same_key", "dob": "exact", …)
    ]
)


@dataclass(frozen=True)
class LinkageResult:
    """Clusters in input order, pairs with their layer, decision and evidence, and run statistics.

    Pairs: for layers 1-2 one pair per record links it to its cluster (not every pair of the cluster); for the
    model every scored pair at or above the lower threshold; plus the conflicts and refused links for review.
    """

    clusters: pa.Table
    pairs: pa.Table
    config: LinkageConfig
    stats: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)  # the trained Splink settings, for the record

    @property
    def cluster_ids(self) -> list[int]:
        return self.clusters.column("cluster_id").to_pylist()

    def pairs_with(self, decision: Decision) -> pa.Table:
        return self.pairs.filter(pc.equal(self.pairs.column("decision"), decision.value))

    @property
    def review(self) -> pa.Table:
        """Pairs a person must decide: between the thresholds, refused by the rules, or one person under two NIKs."""
        return self.pairs_with(Decision.REVIEW)

    @property
    def conflicts(self) -> pa.Table:
        """The same valid NIK on records of different persons."""
        return self.pairs_with(Decision.CONFLICT)
