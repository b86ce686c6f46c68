"""The refresh reads the ledger as raw rows and places recipients through the membership map: the lines it hands
the engine are those of a plain reading of the ledger, row by row, through the ORM."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest
from django.conf import settings
from django.db import connection

from tepat.areas.models import Area, Level
from tepat.areas.selectors import within_q
from tepat.intake.services import ImportOutcome
from tepat.programs.eligibility import family_table
from tepat.programs.models import Benefit, Program
from tepat.programs.snapshot import read as snapshots
from tepat.programs.snapshot import statuses
from tepat.programs.snapshot.read import _ledger, _ledger_rows
from tepat.registry.models import Family, FamilyStatus, Membership, Person, VitalStatus

pytestmark = pytest.mark.django_db


def _expected(period: str, table_ids: set[int], villages: set[str]) -> dict[tuple[int, str], list[float]]:
    """(program id, "f<family>" or "v<village>") -> [rows, amount (None: none given), rows paid to the dead]."""
    family_of = dict(Membership.objects.filter(active=True).values_list("person_id", "family_id"))
    dead = set(Person.objects.filter(vital_status=VitalStatus.DECEASED).values_list("pk", flat=True))
    region = settings.TEPAT_REGION
    out: dict[tuple[int, str], list[float]] = defaultdict(lambda: [0, None, 0])
    for row in Benefit.objects.filter(status__in=statuses(False), period__startswith=period):
        family = family_of.get(row.person_id) if row.person_id else None
        if family is not None:
            if family not in table_ids:
                continue  # an active family that is not one of the region's: left out
            key = (row.program_id, f"f{family}")
        else:
            village = row.village_id or ""
            if not (village == region or village.startswith(region + ".")):
                continue
            key = (row.program_id, f"v{village if village in villages else ''}")
        line = out[key]
        line[0] += 1
        if row.amount is not None:
            line[1] = float(line[1] or 0) + float(row.amount)
        line[2] += row.person_id in dead
    return dict(out)


@pytest.mark.parametrize("everyone", [True, False])
def test_ledger_lines_are_the_rows_summed_per_program_and_family(ledger: ImportOutcome, everyone: bool) -> None:
    pkh = Program.objects.get(code="PKH")
    nur = Person.objects.get(nik="6474035508880002")
    # a recipient recorded dead, a row without amount, a known person without an active family, a recipient
    # whose family is no longer active, two rows of one family
    Person.objects.filter(pk=nur.pk).update(vital_status=VitalStatus.DECEASED)
    first = Benefit.objects.filter(program=pkh).order_by("pk").first()
    assert first is not None
    Benefit.objects.create(program=pkh, period="2026-Q4", amount=None, nik=nur.nik, person=nur,
                           village_id="64.74.03.1002", batch=first.batch)  # fmt: skip
    Benefit.objects.create(program=Program.objects.get(code="PIP"), period="2026", amount=None, nik=nur.nik,
                           person=nur, village_id="64.74.03.1002", batch=first.batch)  # fmt: skip
    for village in (None, "64.74.01"):  # unknown recipients: no village given, a district's code
        Benefit.objects.create(program=pkh, period="2026-Q4", amount=Decimal("7.25"), nik="6474999999990001",
                               village_id=village, batch=first.batch)  # fmt: skip
    budi = Person.objects.get(nik="6474010101700003")
    Membership.objects.filter(person=budi).update(active=False)
    ahmad = Person.objects.get(nik="6474031207850001")
    Benefit.objects.create(program=pkh, period="2026-Q4", amount=Decimal("10"), nik=ahmad.nik, person=ahmad,
                           village_id="64.74.03.1002", batch=first.batch)  # fmt: skip
    k3 = Family.objects.get(kk="6474021010200004")
    sri = Membership.objects.filter(family=k3, active=True).first()
    assert sri is not None
    Benefit.objects.create(program=pkh, period="2026-Q4", amount=Decimal("5"), nik="", person_id=sri.person_id,
                           village_id="64.74.02.1001", batch=first.batch)  # fmt: skip
    Family.objects.filter(pk=k3.pk).update(status=FamilyStatus.RETIRED)

    region = settings.TEPAT_REGION
    families = Family.objects.filter(within_q(region, field="village__code"), status=FamilyStatus.ACTIVE)
    table = family_table(families, fields={"desil"}, everyone=everyone)
    villages = list(Area.objects.filter(within_q(region), level=Level.VILLAGE).order_by("code")
                    .values_list("code", flat=True))  # fmt: skip
    programs = {p.pk: i for i, p in enumerate(Program.objects.order_by("code"))}
    pairs = _ledger(_ledger_rows("2026", False, list(programs)), "2026", False, region, programs, table,
                    {code: i for i, code in enumerate(villages)})  # fmt: skip

    by_index = {i: pk for pk, i in programs.items()}
    got: dict[tuple[int, str], list[float]] = {}
    lines = pairs.ledger
    for k in range(len(lines.program)):
        family = int(lines.family[k])
        where = (
            f"f{int(table.ids[family])}"
            if family >= 0
            else f"v{villages[lines.village[k]] if lines.village[k] >= 0 else ''}"
        )
        amount = float(lines.amount[k])
        key = (by_index[int(lines.program[k])], where)
        assert key not in got, key  # one line per program and family or village
        got[key] = [int(pairs.rows[k]), None if np.isnan(amount) else amount, int(pairs.dead[k])]
    expected = _expected("2026", set(table.ids.tolist()), set(villages))
    assert got == expected
    assert (pkh.pk, f"f{k3.pk}") not in got  # retired family: left out
    assert any(key[1].startswith("v") for key in got)  # Budi and the unknown NIK count by village
    assert got[(pkh.pk, "v")] == [1, 7.25, 0]  # in the region, in none of its villages; sen summed exactly
    assert sum(line[2] for line in got.values()) == 3  # Nur Aisyah's three rows
    k1 = Family.objects.get(kk="6474031203150001")
    pip = Program.objects.get(code="PIP")
    assert got[(pip.pk, f"f{k1.pk}")] == [1, None, 1]  # no amount given: none summed


def test_the_ledger_read_in_block_ranges_is_the_whole_ledger(ledger: ImportOutcome, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:  # fmt: skip
    """Two connections read the ledger's pages in ranges (PostgreSQL): together the ranges hold every row once."""
    pkh = Program.objects.get(code="PKH")
    first = Benefit.objects.filter(program=pkh).order_by("pk").first()
    assert first is not None
    Benefit.objects.bulk_create(
        Benefit(program=pkh, period=f"2026-{k % 12 + 1:02d}", amount=Decimal(k) / 4, nik=f"64749999{k:08d}",
                village_id="64.74.01.1001" if k % 3 else None, batch=first.batch)
        for k in range(600)
    )  # fmt: skip
    monkeypatch.setattr(snapshots, "LEDGER_PARTS", 5)
    parts = snapshots._ledger_parts()
    programs = list(Program.objects.values_list("pk", flat=True))
    read = [_ledger_rows("2026", False, programs, blocks) for blocks in parts]
    whole = _ledger_rows("2026", False, programs)

    def rows(columns: list[np.ndarray]) -> list[tuple[object, ...]]:
        villages = iter(columns[3].tolist())  # given for the rows without a person, in their order
        return sorted((int(p), int(q), float(a), next(villages) if q == 0 else None)
                      for p, q, a in zip(columns[0], columns[1], columns[2], strict=True))  # fmt: skip

    got = [row for part in read for row in rows(part)]
    assert sorted(got) == rows(whole)
    assert len(got) == Benefit.objects.filter(period__startswith="2026").exclude(status="planned").count()
    if connection.vendor == "postgresql":
        assert len(parts) == 5 and parts[-1] is not None and parts[-1][1] is None  # the last range is open
        assert all(len(part[0]) for part in read)
    else:
        assert parts == [None]


def test_work_beside_runs_in_a_thread_and_hands_back_its_result_or_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The refresh's second reader: its result (or its error) comes back to the caller; run in place when asked
    (SQLite, or inside a transaction, where a second connection would not see the caller's rows)."""
    import threading

    from tepat.programs.snapshot import read as snapshots

    threads: list[str] = []

    def work() -> str:
        threads.append(threading.current_thread().name)
        return "read"

    result, seconds = snapshots._beside(work, in_thread=True)()
    assert (result, threads, seconds >= 0) == ("read", ["analysis-ledger"], True)
    result, _seconds = snapshots._beside(work, in_thread=False)()
    assert threads[-1] == threading.current_thread().name

    def broken() -> str:
        raise RuntimeError("ledger unreadable")

    with pytest.raises(RuntimeError, match="ledger unreadable"):
        snapshots._beside(broken, in_thread=True)()
    assert not [t for t in threading.enumerate() if t.name == "analysis-ledger"]
    # inside a transaction (tests run in one) the automatic choice is in place
    lazy = snapshots._beside(work)
    assert threads[-1] == threading.current_thread().name and lazy()[0] == "read"


def test_a_ledger_rewritten_while_read_is_read_again_whole(ledger: ImportOutcome, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:  # fmt: skip
    """A rewrite (VACUUM FULL, CLUSTER) between the page ranges moves rows: the refresh notices the table's new file
    and reads the ledger again in one part, so the figures are those of an undisturbed read."""
    plain = snapshots.region_analysis(period="2026", planned=False)
    files = iter([1, 2])
    whole: list[object] = []
    read_rows = snapshots._ledger_rows

    def rows(*args: object, **kwargs: object) -> list[np.ndarray]:
        whole.append(args[3] if len(args) > 3 else kwargs.get("blocks"))
        return read_rows(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(snapshots, "_ledger_file", lambda: next(files))
    monkeypatch.setattr(snapshots, "_ledger_rows", rows)
    again = snapshots.region_analysis(period="2026", planned=False)
    assert whole[-1] is None  # the last read was the whole table
    assert plain.coverage.by_program["rows"].sum() > 0
    for name, table in plain.coverage.by_program.items():
        assert np.array_equal(again.coverage.by_program[name], table), name
