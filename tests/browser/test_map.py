"""The poverty map in a real chromium on the real demo: polygons drawn without any tile server, a popup with the
figures and the links the role allows, the pockets table, the PNG export; a screenshot for the test artefacts."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser
ARTEFACTS = Path(os.environ.get("TEPAT_ARTEFACTS", "var/test-artefacts"))


def login(browser: Any, base: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "tepat-demo")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/wilayah/$"))
    return page


def open_map(page: Any, base: str, query: str = "") -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"{base}/peta/{query}")
    page.wait_for_function("document.getElementById('map').dataset.features !== undefined")
    assert page.locator("#map").get_attribute("data-features") not in (None, "error")
    assert all(url.startswith(base) for url in requests), [u for u in requests if not u.startswith(base)]


def test_the_map_draws_every_kelurahan_offline_and_opens_a_popup(browser: Any, demo_server: str) -> None:
    page = login(browser, demo_server, "admin")
    open_map(page, demo_server, "?level=village&indicator=rate")
    assert page.locator("#map").get_attribute("data-features") == "15"
    assert page.locator("#map path.leaflet-interactive").count() == 15
    assert page.locator("#map-legend li[data-class]").count() >= 2
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("main").screenshot(path=str(ARTEFACTS / "map.png"))
    page.locator("#area-table tr[data-code='64.74.03.1002'] button.show-on-map").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    text = popup.inner_text()
    assert "Gunung Telihan" in text and "Keluarga desil 1–4" in text
    assert popup.locator("a[href='/keluarga/?wilayah=64.74.03.1002']").count() == 1
    assert popup.locator("a[href='/wilayah/64.74.03.1002/']").count() == 1


def test_the_png_export_is_a_picture_of_the_map(browser: Any, demo_server: str, tmp_path: Path) -> None:
    page = login(browser, demo_server, "analis")
    open_map(page, demo_server, "?indicator=poor")
    with page.expect_download() as info:
        page.click("#map-png")
    target = tmp_path / "map.png"
    info.value.save_as(target)
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert info.value.suggested_filename == "peta-poor-village-64.74.png"


def test_a_village_operator_sees_one_kelurahan_and_a_partner_no_family_links(
    browser: Any,
    demo_server: str,
) -> None:
    operator = login(browser, demo_server, "kelurahan")
    open_map(operator, demo_server)
    assert operator.locator("#map").get_attribute("data-features") == "1"
    assert operator.locator("#area-table tbody tr").count() == 1
    partner = login(browser, demo_server, "mitra")
    open_map(partner, demo_server)
    assert partner.locator("#map").get_attribute("data-features") == "15"
    partner.locator("#area-table tbody tr button.show-on-map").first.click()
    popup = partner.locator(".leaflet-popup-content")
    popup.wait_for()
    assert popup.locator("a[href^='/keluarga/']").count() == 0
    assert popup.locator("a[href^='/wilayah/']").count() == 1


def test_an_enumerator_shows_the_household_points_of_a_village_and_a_partner_cannot(
    browser: Any, demo_server: str
) -> None:
    page = login(browser, demo_server, "enumerator")  # the demo's verval round geotagged houses in its district
    open_map(page, demo_server, "?level=village")
    shown = 0
    for button in page.locator("#area-table tbody tr button.show-on-map").all():
        button.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        popup.locator("button.show-points").click()
        page.wait_for_function("document.getElementById('map').dataset.points !== undefined")
        shown = int(page.locator("#map").get_attribute("data-points") or 0)
        if shown:
            break
    assert shown > 0
    assert page.locator("#map path.leaflet-interactive").count() > shown  # the points are drawn over the areas
    page.locator("main").screenshot(path=str(ARTEFACTS / "map-points.png"))
    partner = login(browser, demo_server, "mitra")
    open_map(partner, demo_server, "?level=village")
    partner.locator("#area-table tbody tr button.show-on-map").first.click()
    partner.locator(".leaflet-popup-content").wait_for()
    assert partner.locator(".leaflet-popup-content button.show-points").count() == 0
    response = partner.request.get(f"{demo_server}/peta/titik.geojson?area=64.74.03.1002")
    assert response.status == 403
