"""Record linkage: one person once, across every list a regency receives.

    result = dedupe(table)                       # a person list (pyarrow Table or DuckDB relation)
    result.clusters                              # row, record_id, cluster_id, layer
    result.pairs                                 # why records were linked, and what a person must review

Layers: (1) the same valid NIK, split where the records are clearly different persons; (2) the same normalised
name, birth date and village; (3) Splink's probabilistic model for the records the rules could not place.
"""

from tepat.engine.linkage.config import FEBRL, PERSON_LIST, Decision, Fields, Layer, LinkageConfig
from tepat.engine.linkage.evaluate import PairScores, pairwise_scores
from tepat.engine.linkage.result import LinkageResult
from tepat.engine.linkage.run import dedupe

__all__ = [
    "FEBRL",
    "PERSON_LIST",
    "Decision",
    "Fields",
    "Layer",
    "LinkageConfig",
    "LinkageResult",
    "PairScores",
    "dedupe",
    "pairwise_scores",
]
