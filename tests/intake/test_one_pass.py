"""A one-pass import (``import_file``: family lists committed while they are read, a part at a time) leaves the
registry exactly as validating the whole file first and committing it at once does, even when a family's rows are
scattered over the file and half of the persons are already in the registry."""

from __future__ import annotations

import csv
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tepat.accounts.models import User
from tepat.engine.synth import SynthConfig, generate
from tepat.intake import parsing
from tepat.intake.models import BatchStatus, ImportBatch
from tepat.intake.services import import_commit, import_file, import_rollback, import_stage, import_validate
from tepat.registry.models import Change, Family, Household, Membership, Person, RegistryFlag

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def lists() -> Iterator[tuple[Path, Path]]:
    """The first half of a synthetic extract (the registry before), and the whole extract shuffled, with some
    occupations and desil changed (the list imported both ways)."""
    with tempfile.TemporaryDirectory(prefix="tepat-one-pass-") as folder:
        out = Path(folder)
        generate(SynthConfig(region="64.74", persons=1200, seed=7, defect_rate=3.0),
                 reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out / "synth")  # fmt: skip
        with (out / "synth" / "dtsen_extract.csv").open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            header, rows = list(reader.fieldnames or []), list(reader)
        pick = random.Random(3)
        changed = [dict(row) for row in rows]
        for row in pick.sample(changed, 60):
            row["pekerjaan"] = "Nelayan" if row.get("pekerjaan") != "Nelayan" else "Petani"
            row["desil_nasional"] = str(pick.randint(1, 10))
        pick.shuffle(changed)
        before, after = out / "before.csv", out / "after.csv"
        for path, content in ((before, rows[: len(rows) // 2]), (after, changed)):
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=header)
                writer.writeheader()
                writer.writerows(content)
        yield before, after


def _counting(function: Any, calls: list[int]) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return function(*args, **kwargs)

    return counted


def _registry(batch: ImportBatch) -> dict[str, Any]:
    """The registry by natural keys (ids differ between the two runs), with the batch's changes and flags."""
    person = {p.pk: (p.nik_raw, p.name) for p in Person.objects.all()}
    family = {f.pk: (f.kk_raw, f.source_key) for f in Family.objects.all()}
    changes = Change.objects.filter(batch=batch)
    return {
        "persons": Counter(
            (nik, valid, name, born, occupation, tuple(sorted(lineage)))
            for nik, valid, name, born, occupation, lineage in Person.objects.values_list(
                "nik_raw", "nik_valid", "name", "birth_date", "occupation", "lineage"
            )
        ),
        "families": Counter(
            (f.kk_raw, f.source_key, f.desil_national, f.village_id, f.household.source_key, f.address.rt)
            for f in Family.objects.select_related("household", "address")
        ),
        "households": Household.objects.count(),
        "memberships": Counter(
            (family[m.family_id], person[m.person_id], m.relationship, m.position, m.active, m.conflict)
            for m in Membership.objects.all()
        ),
        "flags": Counter(
            (f.kind, person.get(f.person_id or 0), family.get(f.family_id or 0))
            for f in RegistryFlag.objects.filter(batch=batch)
        ),
        "changes": Counter(
            (entity, name, repr(old), repr(new))
            for entity, name, old, new in changes.values_list("entity", "field", "old", "new")
        ),
    }


@pytest.mark.parametrize("child", [False, True], ids=["one-process", "reader-process"])
def test_one_pass_and_validate_then_commit_write_the_same_registry(
    lists: tuple[Path, Path], admin: User, monkeypatch: pytest.MonkeyPatch, child: bool
) -> None:
    """Also with the file read and parsed by a second process (``parsing.ChildReader``), as large lists are."""
    before, after = lists
    first = import_file(actor=admin, path=before, kind="dtsen", source_name="DTSEN lama")
    assert first.batch.status == BatchStatus.COMMITTED
    monkeypatch.setattr("tepat.intake.parsing.PARSE_CHUNK", 97)  # families' rows fall into different parts
    monkeypatch.setattr("tepat.intake.parsing.CHILD_MIN_ROWS", 0 if child else 10**9)
    started = []
    monkeypatch.setattr(parsing.ChildReader, "__init__", _counting(parsing.ChildReader.__init__, started))
    one_pass = import_file(actor=admin, path=after, kind="dtsen", source_name="DTSEN baru")
    assert one_pass.batch.status == BatchStatus.COMMITTED
    assert len(started) == (1 if child else 0)
    streamed, streamed_counts = _registry(one_pass.batch), one_pass.counts
    assert streamed_counts["persons_changed"] and streamed_counts["conflicts"] and streamed_counts["persons_new"]
    import_rollback(actor=admin, batch=one_pass.batch)

    batch = import_stage(actor=admin, path=after, kind="dtsen", source_name="DTSEN baru (2)")
    import_validate(batch=batch)  # the preview is a one-pass import too, rolled back
    assert len(started) == (2 if child else 0)
    batch.refresh_from_db()
    preview = {name: value for name, value in batch.preview.items() if name != "examples"}
    assert preview and batch.preview["examples"]["new_persons"]
    assert not Change.objects.filter(batch=batch).exists() and not RegistryFlag.objects.filter(batch=batch).exists()
    import_commit(actor=admin, batch=batch, valid_only=True)  # one pass again, from the stored file
    assert len(started) == (3 if child else 0)
    at_once = _registry(batch)
    for part in streamed:
        assert streamed[part] == at_once[part], part
    assert {k: v for k, v in batch.counts.items()} == streamed_counts
    assert preview == {name: batch.counts[name] for name in preview}  # the preview is what the commit did
