"""A large family list is read and parsed by a second process (``intake.parsing.ChildReader``) and written into
empty tables with their indexes built at the end (``registry.bulk.DeferredIndexes``). Here both are switched on for
small files: what goes wrong in the reading process stops the import with nothing written, and the indexes come
back exactly as they were, after a commit and after a rollback."""

from __future__ import annotations

import csv
import gc
import io
import os
import signal
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.db import connection

from tepat.accounts.models import User
from tepat.engine.batch import gc_paused
from tepat.intake import parsing
from tepat.intake.errors import FileProblem, IntakeError
from tepat.intake.models import BatchStatus, ImportBatch, RowIssue
from tepat.intake.readers import parts
from tepat.intake.services import import_commit, import_file, import_rollback, import_validate
from tepat.registry import bulk
from tepat.registry.models import Family, Membership, Person, SourceRecord
from tepat.registry.stream import FamilyStream
from tepat.registry.writer import RegistryWriter

from ..conftest import EXTRACT

pytestmark = pytest.mark.django_db

TABLES = ("registry_person", "registry_membership", "registry_family", "registry_household", "registry_address")


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every list is 'large': parsed by a second process, two rows a chunk, indexes built at the end."""
    monkeypatch.setattr("tepat.intake.parsing.CHILD_MIN_ROWS", 0)
    monkeypatch.setattr("tepat.intake.parsing.PARSE_CHUNK", 2)
    monkeypatch.setattr("tepat.registry.stream.DEFER_INDEXES_ROWS", 0)


def _schema() -> set[tuple[str, str]]:
    """Every index and constraint of the registry tables, with its definition."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid::regclass::text = ANY(%s) "
                "UNION ALL SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
                "WHERE indrelid::regclass::text = ANY(%s)",
                [list(TABLES), list(TABLES)],
            )
        else:
            marks = ", ".join(["%s"] * len(TABLES))
            cursor.execute(f"SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE tbl_name IN ({marks})", TABLES)
        return set(cursor.fetchall())


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "extract.csv"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


def test_a_large_list_commits_with_the_same_schema_afterwards(
    large: None, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _schema()
    assert len(before) > 10
    rebuilt: list[str] = []
    restore = bulk.DeferredIndexes.restore

    def counted(self: bulk.DeferredIndexes) -> None:
        rebuilt.extend([*self.indexes, *self.keys])
        restore(self)

    monkeypatch.setattr(bulk.DeferredIndexes, "restore", counted)
    outcome = import_file(actor=admin, path=_write(tmp_path), kind="dtsen", source_name="DTSEN uji")
    # Dropped and built again: the NIK index (on PostgreSQL, the foreign keys as well); a partial index over the few
    # deceased persons is kept up as rows go in.
    assert any("person_nik" in sql for sql in rebuilt) and len(rebuilt) >= 10
    assert not any("person_deceased" in sql for sql in rebuilt)
    assert outcome.batch.status == BatchStatus.COMMITTED
    assert Person.objects.count() == 5 and Family.objects.count() == 3 and Membership.objects.count() == 6
    assert SourceRecord.objects.filter(batch=outcome.batch).count() == 7  # the rejected row is kept raw as well
    assert RowIssue.objects.filter(batch=outcome.batch, code="village.unknown").exists()
    assert _schema() == before
    if connection.vendor == "postgresql":  # the keys are checked without hash joins; the rest of the batch is not
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_hashjoin')")
            assert cursor.fetchone() == ("on",)


def _in_child(action: Any) -> Any:
    """A parse step that does ``action`` in the reading process only (never in the test's own process)."""
    parent = os.getpid()
    real = parsing.take_chunk

    def take(parsed: parsing.Parsed, chunk: list[Any], mapping: dict[str, int]) -> None:
        if os.getpid() != parent and parsed.rows >= 2:  # the second chunk: the first is written already
            action()
        real(parsed, chunk, mapping)

    return take


def _nothing_written(before: set[tuple[str, str]]) -> None:
    assert Person.objects.count() == Family.objects.count() == SourceRecord.objects.count() == 0
    assert not RowIssue.objects.exists()
    assert _schema() == before  # the rollback undid the dropped indexes too


def test_a_killed_reading_process_stops_the_import_and_it_runs_again(
    large: None, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _schema()
    monkeypatch.setattr(parsing, "take_chunk", _in_child(lambda: os.kill(os.getpid(), signal.SIGKILL)))
    with pytest.raises(parsing.ReaderStopped, match="berhenti tiba-tiba") as stopped:
        import_file(actor=admin, path=_write(tmp_path), kind="dtsen", source_name="DTSEN uji")
    assert stopped.value.code == "import.reader_stopped" and "-9" in str(stopped.value)
    batch = ImportBatch.objects.get()
    # The batch says why (its page would otherwise wait for ever), and can be run again.
    assert (batch.status, batch.error_code) == (BatchStatus.FAILED, "import.reader_stopped")
    _nothing_written(before)
    monkeypatch.undo()
    import_validate(batch=batch)
    import_commit(actor=admin, batch=batch, valid_only=True)
    assert Person.objects.count() == 5


def test_a_file_problem_found_by_the_reading_process_fails_the_batch(
    large: None, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise IntakeError(FileProblem.TOO_MANY_COLUMNS, path=Path("extract.csv"), count=20_000, limit=1000)

    before = _schema()
    monkeypatch.setattr(parsing, "take_chunk", _in_child(refuse))
    with pytest.raises(IntakeError, match="20000 kolom") as refused:
        import_file(actor=admin, path=_write(tmp_path), kind="dtsen", source_name="DTSEN uji")
    assert refused.value.code == "file.too_many_columns"
    batch = ImportBatch.objects.get()
    assert batch.status == BatchStatus.FAILED and batch.error_code == "file.too_many_columns"
    _nothing_written(before)


def test_a_bug_in_the_reading_process_stops_the_import_with_its_traceback(
    large: None, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail() -> None:
        raise KeyError("kolom")

    before = _schema()
    monkeypatch.setattr(parsing, "take_chunk", _in_child(fail))
    with pytest.raises(RuntimeError, match="KeyError: 'kolom'"):
        import_file(actor=admin, path=_write(tmp_path), kind="dtsen", source_name="DTSEN uji")
    batch = ImportBatch.objects.get()
    assert (batch.status, batch.error_code) == (BatchStatus.FAILED, "import.crashed")
    _nothing_written(before)


def test_a_commit_leaves_nothing_for_the_garbage_collector(admin: User, tmp_path: Path) -> None:
    """The writer and its stream refer to each other; a million matched persons left to the cyclic collector cost
    seconds when it next ran (``RegistryWriter.close`` breaks the cycle)."""
    gc.collect()
    with gc_paused():
        import_file(actor=admin, path=_write(tmp_path), kind="dtsen", source_name="DTSEN uji")
        assert Person.objects.count() == 5
        assert not [o for o in gc.get_objects() if isinstance(o, FamilyStream | RegistryWriter)]


def _persons() -> set[tuple[Any, ...]]:
    """Each person with its family, and the fields its lineage names."""
    return {
        (*row[:5], tuple(sorted(row[5])))
        for row in Person.objects.values_list(
            "nik_raw", "name", "birth_date", "sex", "memberships__family__kk_raw", "lineage"
        )
    }


def test_a_workbook_is_read_in_a_second_process_only_when_it_is_read_in_parts(
    large: None, admin: User, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole loaded sheet would stay in the reading process beside what the importing one holds (2.5 GB at a
    million rows): only a sheet read in parts (``readers.parts``) is read by a second process, with the same rows."""
    path = tmp_path / "extract.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Data")
    for r, row in enumerate(csv.reader(io.StringIO(EXTRACT))):
        sheet.write_row(r, 0, row)
    book.close()
    started: list[int] = []
    real = parsing.ChildReader.__init__

    def counted(self: parsing.ChildReader, *args: Any) -> None:
        started.append(1)
        real(self, *args)

    monkeypatch.setattr(parsing.ChildReader, "__init__", counted)
    outcome = import_file(actor=admin, path=path, kind="dtsen", source_name="DTSEN uji")
    assert outcome.batch.status == BatchStatus.COMMITTED and Person.objects.count() == 5
    assert not started
    whole = _persons()
    import_rollback(actor=admin, batch=outcome.batch)
    assert not Person.objects.exists()
    monkeypatch.setattr(parts, "SPLIT_BYTES", 0)
    # PostgreSQL keeps the rollback's foreign-key checks pending until the test's transaction ends, and refuses to
    # drop a key meanwhile: a real import runs in a transaction of its own.
    monkeypatch.setattr("tepat.registry.stream.DEFER_INDEXES_ROWS", 10**9)
    monkeypatch.setattr(parts, "PART_ROWS", 2)
    monkeypatch.setattr(parts, "FIRST_PART_ROWS", 2)
    again = tmp_path / "extract-lagi.xlsx"
    again.write_bytes(path.read_bytes())
    outcome = import_file(actor=admin, path=again, kind="dtsen", source_name="DTSEN uji (bagian)")
    assert outcome.batch.status == BatchStatus.COMMITTED, outcome.batch.error
    assert started == [1]
    assert _persons() == whole and len(whole) == 6  # five persons, one of them in two families
    assert not list(tmp_path.glob(".tepat-parts-*"))  # the parts went with the table
