"""Local scores: a region-wide run stores one assessment per family, ranked within the regency, with the why;
the official desil is shown beside them and never touched."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count

from tepat.accounts.models import Role, User
from tepat.accounts.permissions import PermissionDenied
from tepat.intake.services import ImportOutcome
from tepat.registry.models import Family, FamilyStatus
from tepat.targeting.models import EligibilityRule, RunStatus, ScoringRun, WelfareAssessment
from tepat.targeting.selectors import family_assessments, targeting_overview
from tepat.targeting.services import SEVERE, scores_compute

pytestmark = pytest.mark.django_db


def test_a_run_scores_every_active_family_and_leaves_the_official_desil_alone(
    admin: User, bontang: Path, run_tasks: Callable[..., object]
) -> None:
    official_before = list(Family.objects.order_by("pk").values_list("pk", "desil_national"))
    run = run_tasks(scores_compute, actor=admin, card="multidimensi")
    assert isinstance(run, ScoringRun)
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, run.error
    assert list(Family.objects.order_by("pk").values_list("pk", "desil_national")) == official_before
    active = Family.objects.filter(status=FamilyStatus.ACTIVE).count()
    rows = WelfareAssessment.objects.filter(method="scorecard:multidimensi")
    assert rows.count() == active == run.summary["families"]
    scored = rows.exclude(score=None)
    desils = set(scored.values_list("desil", flat=True))
    assert 1 in desils and desils <= set(range(1, 11))  # equal scores share a desil, so some may be skipped
    assert scored.filter(rank=1).count() == 1  # one regency, one poorest family
    assert scored.filter(poor=True).count() == run.summary["poor"]
    assert scored.filter(extreme=True, score__lt=SEVERE).count() == 0
    for a in scored.filter(score__gt=0)[:50]:
        parts = [i["contribution"] for i in a.explanation["top"]]
        assert parts == sorted(parts, reverse=True) and 0 < sum(parts) <= a.score + 1e-3
    # local desil 1 is the most deprived tenth: its scores are never below those of the least deprived desil
    top = max(desils)
    assert min(scored.filter(desil=1).values_list("score", flat=True)) >= max(
        scored.filter(desil=top).values_list("score", flat=True)
    )
    view = targeting_overview(actor=admin)
    assert view is not None and view.run == run and view.total is not None and view.total.code == "64.74"
    villages = [line for line in view.lines if line.level == "village"]
    assert sum(line.compare["families"] for line in villages) == active
    assert all(0 <= (line.mpi["H"] or 0) <= 1 for line in villages)


def test_a_second_run_replaces_the_rows_of_its_method_only(
    admin: User, imported: ImportOutcome, run_tasks: Callable[..., object]
) -> None:
    run_tasks(scores_compute, actor=admin, card="multidimensi")
    run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    second = run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    assert isinstance(second, ScoringRun)
    counts = dict(WelfareAssessment.objects.values_list("method").annotate(n=Count("id")).order_by())
    assert counts == {"scorecard:multidimensi": 3, "scorecard:kemensos_262_2022": 3}
    assert set(
        WelfareAssessment.objects.filter(method="scorecard:kemensos_262_2022").values_list("run", flat=True)
    ) == {second.pk}


def test_the_family_page_fragment_shows_official_and_local_with_the_reasons(
    admin: User, imported: ImportOutcome, run_tasks: Callable[..., object], make_user: Callable[..., User]
) -> None:
    run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    family = Family.objects.get(kk="6474021010200004")  # desil 1, earthen floor, no electricity
    lines = family_assessments(actor=admin, family=family)
    official, local = lines[0], lines[-1]
    assert (official.official, official.desil, official.extreme, official.poor) == (True, 1, True, True)
    assert "dtsen_extract.csv, baris 7" in official.source
    assert local.method == "scorecard:kemensos_262_2022" and not local.official and local.version
    labels = [i["label"] for i in local.top]
    assert any("Lantai" in label for label in labels) and any("Penerangan" in label for label in labels)
    assert local.poor is True and local.score is not None and local.score > 0.5
    other_village = make_user("desa", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    assert family_assessments(actor=other_village, family=family) == []


def test_only_tkpk_analysts_and_admins_compute_scores(imported: ImportOutcome, make_user: Callable[..., User]) -> None:
    partner = make_user("mitra", Role.PARTNER, org="PT Contoh")
    with pytest.raises(PermissionDenied):
        scores_compute(actor=partner, card="multidimensi")
    assert not ScoringRun.objects.exists()


def test_the_demo_gets_example_rules_and_scores_without_a_worker(admin: User, imported: ImportOutcome) -> None:
    from tepat.targeting.services import DEMO_RULES, targeting_demo
    from tepat.targeting.table import local_method

    run = targeting_demo(actor=admin)
    assert run.status == RunStatus.DONE and run.method == local_method()
    assert WelfareAssessment.objects.filter(method=run.method).count() == 3
    assert set(EligibilityRule.objects.values_list("name", flat=True)) == {name for name, _t, _p in DEMO_RULES}
    targeting_demo(actor=admin)  # twice is harmless: rules are kept, scores replaced
    assert EligibilityRule.objects.count() == len(DEMO_RULES)


def test_the_fragment_for_the_family_page_renders_the_assessments(
    admin: User, imported: ImportOutcome, run_tasks: Callable[..., object], rf: Any
) -> None:
    from django.template.loader import render_to_string

    run_tasks(scores_compute, actor=admin, card="kemensos_262_2022")
    family = Family.objects.get(kk="6474021010200004")
    request = rf.get("/")
    request.user = admin
    html = render_to_string(
        "targeting/_family_assessments.html",
        {"assessments": family_assessments(actor=admin, family=family)},
        request=request,
    )
    assert 'data-method="desil_national"' in html and 'data-method="scorecard:kemensos_262_2022"' in html
    assert "Lantai sebagian besar tanah" in html and "resmi" in html
