from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ARTEFACTS = Path(os.environ.get("TEPAT_ARTEFACTS", "var/test-artefacts"))
ARTEFACTS.mkdir(parents=True, exist_ok=True)


def login(browser: Any, base: str, username: str) -> Any:
    page = browser.new_page()
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "tepat-demo")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/wilayah/$"))
    return page


def test_admin_walks_from_the_region_to_a_family_and_its_sources(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    assert page.locator("h1").inner_text() == "Kota Bontang"
    families = int(page.locator("[data-stat=families]").inner_text().replace(",", "").replace(".", ""))
    assert families > 500
    page.click("text=Bontang Barat")
    page.wait_for_url(re.compile(r".*/wilayah/64\.74\.03/$"))
    page.click("tr[data-area='64.74.03.1002'] a")
    page.wait_for_url(re.compile(r".*/keluarga/\?wilayah=64\.74\.03\.1002"))
    page.locator("#family-rows tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/keluarga/\d+/$"))
    assert "Gunung Telihan" in page.locator("nav.crumbs").inner_text()
    page.locator("details summary").first.click()
    assert "dtsen_extract.csv" in page.locator("details").first.inner_text()


def test_search_as_you_type_narrows_the_list(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "analis")
    page.goto(f"{demo_server}/keluarga/")
    rows = page.locator("#family-rows tbody tr")
    assert rows.count() == 50
    kk = rows.nth(7).locator("td").first.inner_text().strip()
    page.fill("#q", kk)
    page.wait_for_function("document.querySelectorAll('#family-rows tbody tr').length === 1")
    assert rows.first.locator("td").first.inner_text().strip() == kk
    assert f"q={kk}" in page.url  # the search is in the address bar, so it can be shared and reloaded


def test_the_interface_switches_to_english(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    page.click("button[name=language][value=en]")
    page.wait_for_load_state()
    assert "Region overview" in page.locator("header nav").inner_text()
    page.click("button[name=language][value=id]")
    page.wait_for_load_state()
    assert "Ringkasan wilayah" in page.locator("header nav").inner_text()


def test_a_village_operator_cannot_reach_another_village(browser: Any, demo_server: str) -> None:
    admin = login(browser, demo_server, "admin")
    admin.goto(f"{demo_server}/keluarga/?wilayah=64.74.01.1001")
    foreign = admin.locator("#family-rows tbody tr a").first.get_attribute("href")
    operator = login(browser, demo_server, "kelurahan")
    assert operator.locator("h1").inner_text().startswith("Kelurahan")
    response = operator.goto(f"{demo_server}{foreign}")
    assert response is not None and response.status == 404


def test_a_partner_sees_masked_niks(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "mitra")
    page.goto(f"{demo_server}/keluarga/")
    page.locator("#family-rows tbody tr a").first.click()
    niks = [n.strip().split()[0] for n in page.locator("td[data-nik]").all_inner_texts() if n.strip() != "—"]
    assert niks and all(re.fullmatch(r"\d{4}\*{8}\d{4}", n) for n in niks)


def test_monitoring_shows_the_region_against_its_target_and_any_regency(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "kelurahan")  # aggregated public statistics: every role may look
    page.click("nav >> text=Pemantauan")
    page.wait_for_url(re.compile(r".*/pemantauan/$"))
    assert page.locator("[data-status]").first.get_attribute("data-status") in {
        "achieved", "on_track", "at_risk", "off_track"
    }  # fmt: skip
    assert page.locator("svg").count() >= 1
    page.goto(f"{demo_server}/pemantauan/61.07/")
    text = page.locator("main").inner_text()
    assert "Bengkayang" in text and "7,17" in text and "6,03" in text
    page.screenshot(path=str(ARTEFACTS / "monitoring-bengkayang.png"), full_page=True)


def test_the_demo_ledger_and_proposals_pages_open(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    page.click("nav >> text=Usulan")
    page.wait_for_url(re.compile(r".*/usulan/$"))
    assert page.locator("#proposals").count() == 1
    page.goto(f"{demo_server}/impor/")
    kinds = page.locator("select[name=jenis] option").all_inner_texts()
    assert len(kinds) == 9
    assert page.locator("#batches tbody tr").count() >= 11  # the extract, seven programs, deaths, moves, exclusions


def test_duplicates_and_quality_pages_after_the_demo_linkage_run(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    page.click("nav >> text=Ganda & kualitas")
    page.wait_for_url(re.compile(r".*/linkage/$"))
    page.wait_for_selector("#run .status.done", timeout=120_000)  # the run the demo queued; htmx polls until done
    assert "orang diperiksa" in page.locator("#run").inner_text()
    page.click("text=Temuan kualitas data per desa dan program")
    page.wait_for_url(re.compile(r".*/linkage/kualitas/$"))
    invalid = page.locator("#quality tfoot [data-total=nik_invalid]").inner_text()
    assert int(invalid.replace(",", "").replace(".", "") or 0) > 0  # the synthetic extract carries damaged NIKs
    assert page.locator("#programs tbody tr[data-program]").count() >= 5
    page.screenshot(path=str(ARTEFACTS / "quality.png"), full_page=True)
