"""What each role may open, and the everyday walks of issue 7, in chromium on the demo instance."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.browser.test_demo import ARTEFACTS, login

pytestmark = pytest.mark.browser

# Pages a user reaches from the menu or its sub-menus (GET only, no side effects).
PAGES = [
    "/wilayah/",
    "/peta/",
    "/pemantauan/",
    "/keluarga/",
    "/program/",
    "/program/analisis/",
    "/program/rat/",
    "/program/evaluasi/",
    "/program/adopsi/",
    "/penargetan/",
    "/penargetan/aturan/",
    "/penargetan/skenario/",
    "/linkage/",
    "/linkage/kualitas/",
    "/usulan/",
    "/impor/",
    "/audit/",
]
ROLES = ["admin", "analis", "dinsos", "kelurahan", "enumerator", "mitra", "auditor"]
# The refusals the permission table promises (accounts/permissions.py): the audit log is for the TKPK admin and the
# auditor; imports for those who import (and the auditor, who reads the batches).
REFUSED = {
    "/audit/": {"analis", "dinsos", "kelurahan", "enumerator", "mitra"},
    "/impor/": {"enumerator", "mitra"},
}


def test_every_role_opens_what_it_may_and_is_refused_the_rest(browser: Any, demo_server: str) -> None:
    matrix: dict[str, dict[str, int]] = {}
    for role in ROLES:
        page = login(browser, demo_server, role)
        menu = {a.get_attribute("href") for a in page.locator("header nav a").all()}
        matrix[role] = {}
        for path in PAGES:
            response = page.goto(f"{demo_server}{path}")
            assert response is not None
            status = response.status
            matrix[role][path] = status
            assert status in (200, 403), f"{role} {path}: {status}"
            refused = page.locator("h1").first.inner_text() in ("Tidak berwenang", "Not authorised")
            assert refused == (status == 403), f"{role} {path}"
            if path in menu:
                assert status == 200, f"{role} is offered {path} in the menu but refused"
            if role in REFUSED.get(path, ()):
                assert status == 403, f"{role} must not open {path}"
            elif path in REFUSED:
                assert status == 200, f"{role} may open {path}"
        page.close()
    (ARTEFACTS / "role-matrix.json").write_text(json.dumps(matrix, indent=1))


def test_pockets_who_gets_nothing_there_and_the_2026_target_in_a_few_clicks(browser: Any, demo_server: str) -> None:
    """Issue 7's question: which villages are poverty pockets, who there gets nothing, are we on track for 2026?"""
    page = login(browser, demo_server, "analis")
    page.screenshot(path=str(ARTEFACTS / "dashboard.png"), full_page=True)
    page.click("header nav >> text=Peta")
    page.wait_for_url(re.compile(r".*/peta/$"))
    hot = page.locator("#pocket-table tr[data-pocket=hot] a")
    if hot.count():
        hot.first.click()
    else:  # no significant pocket in a small demo: the poorest village of the table stands in
        rows = page.locator("#area-table tbody tr[data-value]")
        values = [float(v or 0) for v in rows.evaluate_all("rs => rs.map(r => r.dataset.value)")]
        rows.nth(values.index(max(values))).locator("th a").click()
    page.wait_for_url(re.compile(r".*/wilayah/64\.74\.\d\d\.\d{4}/$"))
    village = page.url.rstrip("/").rsplit("/", 1)[1]
    unserved = int(re.sub(r"\D", "", page.locator("[data-stat=unserved]").inner_text()) or 0)
    assert unserved > 0, "the demo has poor families nobody serves in its poorest village"
    page.click("[data-stat=unserved] a")
    page.wait_for_url(re.compile(rf".*/keluarga/\?wilayah={re.escape(village)}&belum_terlayani=1"))
    assert page.locator("#family-rows tbody tr").count() == min(unserved, 50)
    page.click("header nav >> text=Pemantauan")
    page.wait_for_url(re.compile(r".*/pemantauan/$"))
    status = page.locator("[data-status]").first
    assert status.get_attribute("data-status") in {"achieved", "on_track", "at_risk", "off_track"}
    assert "2026" in page.locator("main").inner_text()


def test_an_enumerator_records_a_field_visit_from_a_phone(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "enumerator")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{demo_server}/keluarga/")
    page.locator("#family-rows tbody tr a").first.click()
    page.wait_for_url(re.compile(r".*/keluarga/\d+/$"))
    before = page.locator("#kunjungan tr[data-visit]").count()
    page.click("#kunjungan summary")
    page.select_option("#kunjungan select[name=hasil]", "not_found")
    page.fill("#kunjungan textarea[name=catatan]", "Rumah dikunci, tetangga tidak mengenal keluarga ini.")
    page.fill("#kunjungan input[name=lintang]", "0,1331")
    page.fill("#kunjungan input[name=bujur]", "117,4872")
    page.click("#kunjungan button[type=submit]")
    page.wait_for_selector("p.success")
    visits = page.locator("#kunjungan tr[data-visit]")
    assert visits.count() == before + 1
    newest = visits.first.inner_text()
    assert "Tidak ditemukan di alamat" in newest and "0.133100, 117.487200" in newest
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "the family page fits a phone"
    page.screenshot(path=str(ARTEFACTS / "family-visit-phone.png"), full_page=True)


def test_a_village_operators_pages_fit_a_phone(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "kelurahan")
    page.set_viewport_size({"width": 390, "height": 844})
    menu = [a.get_attribute("href") for a in page.locator("header nav a").all()]
    page.goto(f"{demo_server}/keluarga/")
    menu.append(page.locator("#family-rows tbody tr a").first.get_attribute("href"))
    wide = {}
    for href in menu:
        page.goto(f"{demo_server}{href}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 391:
            wide[href] = width
    assert not wide, f"pages wider than a phone: {wide}"
