"""The family table is built once per state of the data and cut to each area: the cut equals a table built for
that area, and every change of the data (an import, its rollback, a merge and its undo, a scores run) is seen at
once, without a rebuild when nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from tepat.accounts.models import User
from tepat.areas.selectors import within_q
from tepat.intake.services import ImportOutcome, import_rollback
from tepat.linkage.models import MatchPair
from tepat.linkage.services import linkage_run_create, merge_undo, pair_decide
from tepat.registry.models import Family, FamilyStatus, Person
from tepat.targeting.cache import CACHE, cached_family_table, data_stamp
from tepat.targeting.services import scores_compute
from tepat.targeting.table import family_table_from_registry

pytestmark = pytest.mark.django_db
DAY = date(2026, 10, 1)


def members(scope: str | None = None) -> int:
    return int(sum(cached_family_table(scope, on=DAY).table.column("members").to_pylist()))


def test_a_cut_of_the_region_table_is_the_table_of_the_area(admin: User, bontang: Path) -> None:
    for scope in ("64.74", "64.74.03", "64.74.03.1002"):
        cached = cached_family_table(scope, on=DAY)
        families = Family.objects.filter(within_q(scope, field="village__code"), status=FamilyStatus.ACTIVE)
        built = family_table_from_registry(families=families, on=DAY)
        assert len(cached) == len(built) > 0
        assert cached.ids.tolist() == built.ids.tolist()
        for name in built.table.column_names:
            assert cached.table.column(name).to_pylist() == built.table.column(name).to_pylist(), name
    assert CACHE.builds == 1  # one region table served all three areas


def test_every_change_of_the_data_is_seen_and_nothing_else_rebuilds(
    admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    before = members()
    builds = CACHE.builds
    assert members("64.74.03.1002") == 3 and CACHE.builds == builds  # same data: the table is reused
    # A reviewer decides two listings are one person: the merged listing leaves its family.
    a, b = (Person.objects.get(name=name) for name in ("Nur Aisyah", "Sri Wahyuni"))
    pair = MatchPair.objects.create(run=linkage_run_create(actor=admin), person_a=a, person_b=b, layer="rule",
                                    decision="review")  # fmt: skip
    pair_decide(actor=admin, pair=pair, same_person=True)
    assert members() == before - 1
    merge_undo(actor=admin, merge=pair.merges.get())
    assert members() == before
    # A scores run fills the local score the rules read.
    assert set(cached_family_table(on=DAY).table.column("local_score").to_pylist()) == {None}
    run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    assert set(cached_family_table(on=DAY).table.column("local_score").to_pylist()) != {None}


def test_rolling_an_import_back_takes_its_families_away(admin: User, imported: ImportOutcome) -> None:
    assert len(cached_family_table(on=DAY)) == 3
    import_rollback(actor=admin, batch=imported.batch)
    assert len(cached_family_table(on=DAY)) == 0


def test_the_stamp_is_cheap_to_read_and_stable(admin: User, imported: ImportOutcome) -> None:
    assert data_stamp() == data_stamp()


def test_a_table_larger_than_the_budget_is_used_and_not_kept(
    admin: User, imported: ImportOutcome, settings  # type: ignore[no-untyped-def]
) -> None:  # fmt: skip
    settings.TEPAT_TARGETING_CACHE_MB = 0.0001  # ~100 bytes
    builds = CACHE.builds
    assert members() == members()
    assert CACHE.builds == builds + 2 and not CACHE.items
