"""The analyses' shared snapshot: queued when missing or stale, shown with its date meanwhile, refreshed by the
task, never computed by a page; figures per area inside the user's scope, lists through the scoped selectors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from tepat.accounts.models import Role, User
from tepat.areas.models import Area
from tepat.intake.services import ImportOutcome, import_file
from tepat.programs.analysis import Filters, analysis_view, excluded_listed, family_lines, snapshot_state
from tepat.programs.models import (
    LATEST_PERIOD,
    AnalysisArea,
    AnalysisList,
    AnalysisSnapshot,
    Program,
    SnapshotStatus,
)
from tepat.programs.services import analysis_refresh_queue, program_save
from tepat.programs.snapshot import data_stamp, snapshot_compute
from tepat.registry.models import Family

pytestmark = pytest.mark.django_db
DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PIP = "program,periode,nik,nama,nominal\nPIP,2026,6474035508880002,Nur Aisyah,450000\n"


def _row(rows: list[Any], key: str) -> Any:
    return next(r for r in rows if r.key == key)


def _work() -> int:
    """What the worker does: compute every queued snapshot, oldest first."""
    done = 0
    for snapshot in AnalysisSnapshot.objects.filter(status=SnapshotStatus.QUEUED).order_by("pk"):
        snapshot_compute(snapshot=snapshot)
        done += 1
    return done


@pytest.fixture
def worker_tasks(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = DATABASE_TASKS


def test_a_page_queues_the_refresh_once_and_never_computes(ledger: ImportOutcome, admin: User,
                                                           worker_tasks: None) -> None:  # fmt: skip
    view = analysis_view(actor=admin, filters=Filters(period=LATEST_PERIOD))
    assert view.snapshot is None and view.state.pending is not None and view.programs == []
    assert AnalysisSnapshot.objects.count() == 1 and DBTaskResult.objects.count() == 1
    analysis_view(actor=admin, filters=Filters(period=LATEST_PERIOD))
    analysis_refresh_queue()  # as intake calls it after a commit: the queued refresh will see these data
    assert AnalysisSnapshot.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert _work() == 1
    view = analysis_view(actor=admin, filters=Filters(period=LATEST_PERIOD))
    assert view.snapshot is not None and view.filters.period == "2026" and not view.state.stale
    assert view.state.pending is None and view.periods == ["2026", "2026-Q3"]
    assert _row(view.programs, "PKH").reached == 1


def test_after_an_import_the_last_snapshot_shows_with_its_date_while_the_refresh_runs(
    ledger: ImportOutcome, admin: User, worker_tasks: None, client_for: Any, tmp_path: Path
) -> None:
    analysis_refresh_queue()
    _work()
    first = AnalysisSnapshot.objects.get(status=SnapshotStatus.DONE)
    (tmp_path / "pip.csv").write_text(PIP, encoding="utf-8")
    import_file(actor=admin, path=tmp_path / "pip.csv", kind="program", source_name="Disdik")
    assert first.stamp != data_stamp()
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    assert view.snapshot == first and view.state.stale and view.state.pending is not None
    assert "PIP" not in [r.key for r in view.programs]  # the old figures, labelled as such
    html = client_for(admin).get("/program/analisis/?periode=2026").content.decode()
    assert "Diperbarui pada" in html and "sedang diperbarui" in html and 'data-stale="1"' in html
    status = client_for(admin).get(f"/program/analisis/status/{view.state.pending.pk}/")
    assert 'data-snapshot-status="queued"' in status.content.decode() and "HX-Refresh" not in status
    assert _work() == 1
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    assert not view.state.stale and _row(view.programs, "PIP").reached == 1
    # the older snapshot of the same period and its rows are gone
    assert list(AnalysisSnapshot.objects.values_list("status", flat=True)) == [SnapshotStatus.DONE]
    assert not AnalysisArea.objects.filter(snapshot=first).exists()
    assert not AnalysisList.objects.filter(snapshot_id=first.pk).exists()
    done = client_for(admin).get(f"/program/analisis/status/{view.snapshot.pk}/?muat=1")
    assert done["HX-Refresh"] == "true"


def test_program_edits_queue_a_refresh_themselves(ledger: ImportOutcome, admin: User, worker_tasks: None) -> None:
    analysis_refresh_queue()
    _work()
    program_save(actor=admin, program=Program.objects.get(code="PKH"), eligibility_rule="desil <= 1")
    assert AnalysisSnapshot.objects.filter(status=SnapshotStatus.QUEUED).count() == 1
    _work()
    pkh = _row(analysis_view(actor=admin, filters=Filters(period="2026")).programs, "PKH")
    assert (pkh.eligible, pkh.reached, pkh.leakage) == (1, 0, 2)  # only K3 is desil 1


def test_a_failed_refresh_is_shown_and_not_retried_on_the_same_data(
    ledger: ImportOutcome, admin: User, worker_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tepat.programs.snapshot as snapshots

    def broken(**_: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(snapshots, "region_analysis", broken)
    analysis_view(actor=admin, filters=Filters(period="2026"))
    with pytest.raises(RuntimeError):
        _work()
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    assert view.state.failed is not None and "disk full" in view.state.failed.error
    assert AnalysisSnapshot.objects.count() == 1  # not queued again until the data change


def test_figures_of_a_village_operator_are_their_village_only(
    ledger: ImportOutcome, make_user: Callable[..., User], client_for: Any
) -> None:
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    view = analysis_view(actor=operator, filters=Filters(period="2026"))
    # the snapshot holds the whole region; the operator's page is one village's row
    region = AnalysisArea.objects.get(snapshot=view.snapshot, code="64.74")
    assert region.totals["families"] == 3 and view.total is not None and view.total.families == 1
    assert view.children == [] and [f.kk for f in view.excluded] == []
    assert [a.code for a in view.crumbs] == ["64.74.03.1002"]
    with pytest.raises(Exception):  # noqa: B017 - Area.DoesNotExist: another village does not exist for them
        analysis_view(actor=operator, filters=Filters(area="64.74.02.1001", period="2026"))
    client = client_for(operator)
    assert client.get("/program/analisis/64.74.02.1001/?periode=2026").status_code == 404
    html = client.get("/program/analisis/?periode=2026").content.decode()
    assert "Sri Wahyuni" not in html and "64.74.02" not in html


def test_lists_are_read_through_the_scoped_selector(
    ledger: ImportOutcome, admin: User, make_user: Callable[..., User]
) -> None:
    view = analysis_view(actor=admin, filters=Filters(period="2026"))
    assert [f.kk for f in view.excluded] == ["6474021010200004"]
    # Even a snapshot that (wrongly) lists K3 under another village cannot show it to that village's operator:
    # the family itself is read through Family.objects.visible_to.
    k3 = Family.objects.get(kk="6474021010200004")
    village = AnalysisArea.objects.get(snapshot=view.snapshot, code="64.74.03.1002")
    village.detail["lists"]["none"] = [[k3.pk, "00"]]
    village.save()
    moved = AnalysisList.objects.get(snapshot=view.snapshot, village=k3.village_id)
    target = AnalysisList.objects.filter(snapshot=view.snapshot, village="64.74.03.1002").first()
    if target is None:
        moved.village = "64.74.03.1002"
        moved.save()
    else:
        target.rows, target.count = bytes(target.rows) + bytes(moved.rows), target.count + moved.count
        target.save()
        moved.delete()
    wrong = excluded_listed(view.snapshot, Area.objects.get(code="64.74.03.1002"), None)
    assert k3.pk in [f for f, _ in wrong]
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    assert analysis_view(actor=operator, filters=Filters(period="2026")).excluded == []
    assert family_lines(actor=operator, snapshot=view.snapshot, listed=wrong) == []  # the export's path
    assert analysis_view(actor=admin, filters=Filters(area="64.74.03.1002", period="2026")).excluded[0].pk == k3.pk


def test_partners_see_the_lists_masked(ledger: ImportOutcome, partner: User, client_for: Any) -> None:
    view = analysis_view(actor=partner, filters=Filters(period="2026"))
    line = view.excluded[0]
    assert (line.kk, line.head_name, line.address) == ("6474********0004", "S. W.", "")
    html = client_for(partner).get("/program/analisis/?periode=2026").content.decode()
    assert "Sri Wahyuni" not in html and "S. W." in html


def test_the_default_period_is_the_ledgers_latest_year(ledger: ImportOutcome, admin: User) -> None:
    state = snapshot_state(period=LATEST_PERIOD)
    assert state.shown is not None and state.shown.period == "2026"
    assert snapshot_state(period=LATEST_PERIOD).shown == state.shown  # current: nothing queued again
    assert AnalysisSnapshot.objects.count() == 1


def test_program_list_reads_the_snapshot_for_the_users_area(
    ledger: ImportOutcome, admin: User, make_user: Callable[..., User], client_for: Any
) -> None:
    from tepat.programs.selectors import program_list

    pkh = next(line for line in program_list(actor=admin).lines if line.code == "PKH")
    assert (pkh.rows, pkh.amount, pkh.latest) == (3, 2_250_000, "2026-Q3")
    operator = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    pkh = next(line for line in program_list(actor=operator).lines if line.code == "PKH")
    assert (pkh.rows, pkh.amount) == (1, 750_000)
    assert "Baris penerima 2026" in client_for(admin).get("/program/").content.decode()
