"""Pairwise precision and recall of a clustering against the truth, the measure linkage papers report."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa


@dataclass(frozen=True)
class PairScores:
    true_positives: int  # pairs of records in one cluster that are one person
    predicted: int  # pairs of records in one cluster
    actual: int  # pairs of records that are one person

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.actual if self.actual else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _pairs(counts: Counter[Hashable]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def pairwise_scores(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> PairScores:
    """Scores of cluster labels per record (same order); a record whose truth is None is a person of its own."""
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predicted labels for {len(truth)} records")
    keyed = [
        (p, t if t is not None else ("__alone__", i)) for i, (p, t) in enumerate(zip(predicted, truth, strict=True))
    ]
    both = Counter(keyed)
    return PairScores(
        true_positives=_pairs(both),  # type: ignore[arg-type]
        predicted=_pairs(Counter(p for p, _ in keyed)),
        actual=_pairs(Counter(t for _, t in keyed)),
    )


# --- the synthetic lists of tepat.engine.synth, as one person list with its truth ----------------------------------

TEMPLATE = (
    "record_id",
    "nik",
    "no_kk",
    "nama",
    "jenis_kelamin",
    "tempat_lahir",
    "tanggal_lahir",
    "nama_ibu_kandung",
    "alamat",
    "rt",
    "rw",
    "kode_desa",
)
# Dinas Perkim's RTLH sheet has its own headers (and the village by name, not code).
_PERKIM = {
    "NIK": "nik",
    "NO KK": "no_kk",
    "NAMA LENGKAP": "nama",
    "JK": "jenis_kelamin",
    "TEMPAT LAHIR": "tempat_lahir",
    "TGL LAHIR": "tanggal_lahir",
    "ALAMAT": "alamat",
    "RT": "rt",
    "RW": "rw",
    "KELURAHAN": "kode_desa",
    "NO": "record_id",
}


def synth_lists(folder: Path | str) -> tuple[pa.Table, list[str | None]]:
    """The registry extract and every program list of a `tepat synth` folder as one person list, with the true
    person of each row (from truth_defects.csv where a row was damaged, else from its NIK in truth_persons.csv).

    Record ids are prefixed with the file name so that they stay unique in the union.
    """
    import pyarrow.csv as pv

    root = Path(folder)

    def load(path: Path, delimiter: str) -> pa.Table:
        with path.open(encoding="utf-8") as handle:
            header = next(csv.reader([handle.readline()], delimiter=delimiter))
        convert = pv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=False)
        return pv.read_csv(path, parse_options=pv.ParseOptions(delimiter=delimiter), convert_options=convert)

    truth_by_nik = {
        nik: person
        for nik, person in zip(
            *(pv.read_csv(root / "truth_persons.csv", convert_options=pv.ConvertOptions(
                column_types={"nik": pa.string(), "person_id": pa.string()}, include_columns=["nik", "person_id"]))
              .column(name).to_pylist() for name in ("nik", "person_id")),
            strict=True,
        )
    }  # fmt: skip
    defects = pv.read_csv(root / "truth_defects.csv", convert_options=pv.ConvertOptions(
        column_types={"file": pa.string(), "row": pa.int64(), "person_id": pa.string()},
        include_columns=["file", "row", "person_id"]))  # fmt: skip
    truth_by_row = dict(
        zip(zip(defects.column("file").to_pylist(), defects.column("row").to_pylist(), strict=True),
            defects.column("person_id").to_pylist(), strict=True)
    )  # fmt: skip

    files = ["dtsen_extract.csv", *sorted(p.name for p in root.glob("program_*.csv"))]
    tables: list[pa.Table] = []
    truth: list[str | None] = []
    for name in files:
        path = root / name
        perkim = path.read_text(encoding="utf-8")[:200].startswith("NO;")
        table = load(path, ";" if perkim else ",")
        if perkim:
            table = table.rename_columns([_PERKIM.get(column, column) for column in table.column_names])
        rows = table.num_rows
        stem = path.stem
        record_ids = (
            [f"{stem}:{value}" for value in table.column("record_id").to_pylist()]
            if "record_id" in table.column_names
            else [f"{stem}:{line}" for line in range(2, rows + 2)]
        )
        columns = {"record_id": pa.array(record_ids, pa.string())}
        for column in TEMPLATE[1:]:
            columns[column] = table.column(column) if column in table.column_names else pa.nulls(rows, pa.string())
        columns["sumber"] = pa.array([stem] * rows, pa.string())
        tables.append(pa.table(columns))
        niks = table.column("nik").to_pylist()
        truth.extend(truth_by_row.get((name, line)) or truth_by_nik.get(niks[line - 2]) for line in range(2, rows + 2))
    return pa.concat_tables(tables), truth
