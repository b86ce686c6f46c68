from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from .test_demo import login

pytestmark = pytest.mark.browser


def test_a_list_is_uploaded_checked_committed_and_traceable(browser: Any, demo_server: str, tmp_path: Path) -> None:
    page = login(browser, demo_server, "admin")
    page.goto(f"{demo_server}/keluarga/?wilayah=64.74.03.1002")
    page.locator("#family-rows tbody tr a").first.click()
    kk = page.locator("[data-kk]").inner_text().strip()
    nik = page.locator("td[data-nik]").first.inner_text().split()[0]
    # An agency list as agencies write it: Indonesian headers, ';', dd/mm/yyyy, a bad row.
    listing = tmp_path / "dinsos_verifikasi.csv"
    listing.write_text(
        "DAFTAR HASIL VERIFIKASI DINAS SOSIAL;;;;\n"
        "NIK;NO KK;NAMA LENGKAP;TEMPAT LAHIR;KODE DESA\n"
        f"{nik};{kk};NAMA DIPERBARUI;Samarinda;64.74.03.1002\n"
        "6474039999990001;6474031203150009;Orang Tanpa Desa;Bontang;99.99.99.9999\n",
        encoding="cp1252",
    )
    page.goto(f"{demo_server}/impor/")
    page.set_input_files("input[name=berkas]", str(listing))
    page.select_option("select[name=jenis]", "person")
    page.fill("input[name=sumber]", "Dinas Sosial — verifikasi")
    page.click("#upload button[type=submit]")
    page.wait_for_url(re.compile(r".*/impor/\d+/$"))
    page.wait_for_selector("[data-status=validated]", timeout=60_000)
    assert page.locator("[data-count=rejected]").inner_text() == "1"
    report = page.locator("#report").inner_text()
    assert "Kode desa/kelurahan tidak dikenal" in report and "99.99.99.9999" in report
    page.click("button[value=valid]")
    page.wait_for_selector("[data-status=committed]", timeout=60_000)
    page.goto(f"{demo_server}/keluarga/?q={nik}")
    page.locator("#family-rows tbody tr a").first.click()
    page.locator("details summary").first.click()
    details = page.locator("details").first.inner_text()
    assert "NAMA DIPERBARUI" in details and "dinsos_verifikasi.csv" in details
    assert "NAMA DIPERBARUI" in page.locator("section").last.inner_text()  # the change history
