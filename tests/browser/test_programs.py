"""The programs analyses and the evaluation meeting in a real chromium on the demo: the analyses come from the
shared snapshot (refreshed by the worker, never by the page), agree with the region overview, and the meeting view
shows the demo RAT's figures, drills down to the sub-activities behind plan and fits a phone; screenshots for the
test artefacts."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.test_demo import ARTEFACTS, login

pytestmark = pytest.mark.browser


def number(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def open_current(page: Any, url: str, timeout: float = 180) -> None:
    """Open a page whose figures come from the analyses' snapshot, until they are current: the demo's worker
    computes the snapshot, then its linkage run changes the registry and the page queues a refresh."""
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        note = page.locator(".snapshot-note[data-stale]")
        if note.count() and note.first.get_attribute("data-stale") == "0":
            return
        assert time.monotonic() < deadline, "the analyses' snapshot did not become current"
        page.wait_for_timeout(2000)


def test_the_analysis_page_reads_the_snapshot_and_agrees_with_the_overview(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    families = number(page.locator("[data-stat=families]").inner_text())  # the region overview
    open_current(page, f"{demo_server}/program/analisis/")
    assert number(page.locator("[data-stat=families]").inner_text()) == families
    assert "Diperbarui pada" in page.locator(".snapshot-note").inner_text()
    districts = page.locator("#by-area tbody tr[data-area^='64.74.']")
    assert districts.count() == 3
    assert sum(number(t) for t in districts.locator("td:nth-child(2)").all_inner_texts()) == families
    assert page.locator("#by-program tr[data-row=PKH]").count() == 1
    assert page.locator("#excluded-families tbody tr[data-family]").count() >= 1
    page.locator("main").screenshot(path=str(ARTEFACTS / "programs-analysis.png"))
    # a district's page: its rows of the same snapshot
    districts.first.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/program/analisis/64\.74\.\d\d/.*"))
    assert page.locator("#by-area tbody tr[data-area]").count() >= 1


def test_the_evaluation_meeting_shows_the_plan_and_drills_down(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    page.set_viewport_size({"width": 1360, "height": 900})
    page.click("header nav >> text=Program")
    page.click("nav.subnav >> text=Rapat evaluasi")
    page.wait_for_url(re.compile(r".*/program/evaluasi/$"))
    open_current(page, f"{demo_server}/program/evaluasi/?tahun=2026")
    assert number(page.locator("[data-stat=subactivities]").inner_text()) == 16
    assert page.locator("[data-stat=budget]").inner_text() == "Rp 22,9 M"  # the demo RAT's budgets, in rupiah
    assert page.locator("#by-strategy tr[data-strategy='inpres.kantong']").count() == 1
    assert page.locator("#by-agency tr[data-organisation]").count() >= 7
    behind = number(page.locator("#problems li[data-problem=behind] strong").inner_text())
    assert behind >= 2
    page.locator("main").screenshot(path=str(ARTEFACTS / "programs-evaluation.png"))
    page.click("#problems li[data-problem=behind] a")
    page.wait_for_url(re.compile(r".*masalah=behind.*"))
    rows = page.locator("#subactivities tbody tr[data-sub]")
    assert rows.count() == behind
    assert all("behind" in (f or "") for f in rows.evaluate_all("rs => rs.map(r => r.dataset.flags)"))
    assert "Asistensi rehabilitasi sosial penyandang disabilitas" in page.locator("#subactivities").inner_text()
    # the meeting's export
    with page.expect_download() as info:
        page.click("a[data-export]")
    assert info.value.suggested_filename == "evaluasi-rat-2026.xlsx"


def test_the_evaluation_fits_a_phone_and_is_refused_to_partners(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "analis")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo_server}/program/evaluasi/?tahun=2026")
    assert page.evaluate("document.querySelector('main').scrollWidth") <= 390 + 1, "the meeting view fits a phone"
    assert page.locator("#by-strategy thead").is_hidden()  # one card per strategy instead of a wide table
    page.screenshot(path=str(ARTEFACTS / "programs-evaluation-phone.png"), full_page=True)
    partner = login(browser, demo_server, "mitra")
    response = partner.goto(f"{demo_server}/program/evaluasi/")
    assert response is not None and response.status == 403
    assert partner.locator("nav.subnav >> text=Rapat evaluasi").count() == 0
