from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from tepat.accounts.models import Role, User
from tepat.monitoring.models import Target
from tepat.monitoring.services import SeriesValueIn, TargetIn, series_values_save, targets_save

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
BENGKAYANG, KALBAR, BONTANG, KALTIM = "61.07", "61", "64.74", "64"


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def cells(page: str, year: int) -> list[str]:
    """The numbers in a year's row of the first series table."""
    row = re.search(rf'<tr data-year="{year}">(.*?)</tr>', page, re.S)
    assert row, f"no row for {year}"
    return re.findall(r'<td class="num">([^<]*)</td>', row.group(1))


def test_monitoring_needs_a_login(client: Client) -> None:
    response = client.get("/pemantauan/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_region_page_shows_bontang_with_its_province_and_the_attribution(
    client: Client, admin: User, bps: Callable[..., int]
) -> None:
    bps(BONTANG, KALTIM)
    page = login(client, admin).get("/pemantauan/").content.decode()
    assert settings.TEPAT_REGION == BONTANG and "Kota Bontang" in page
    assert 'data-latest="p0_pct">3,21 %' in page
    assert cells(page, 2023)[:2] == ["4,11", "6,11"]  # Bontang beside Kalimantan Timur
    assert "Sumber: Badan Pusat Statistik (BPS)" in page
    assert 'data-indicator="extreme_poor_pct"' not in page  # no series, no target: nothing invented


def test_bengkayang_shows_the_seed_figures_and_its_status_against_the_rpjmd_target(
    client: Client, admin: User, bps: Callable[..., int]
) -> None:
    bps(BENGKAYANG, KALBAR)
    targets_save(
        targets=[TargetIn(BENGKAYANG, "p0_pct", 2026, Decimal("5.62"), "<", "RPJMD 2021–2026")],
        batch_id=None,
        actor=admin,
    )
    page = login(client, admin).get(f"/pemantauan/{BENGKAYANG}/").content.decode()
    assert "Kabupaten Bengkayang" in page and "Kalimantan Barat" in page
    assert cells(page, 2018)[0] == "7,17" and cells(page, 2022)[0] == "6,03"
    assert "Target &lt; 5,62 %" in page
    # 2025: 5,83; Theil–Sen on ln P0 2019–2025 gives −2,6 % a year → 5,68 in 2026, not below 5,62
    assert 'data-status="at_risk"' in page and "Berisiko" in page
    assert "Proyeksi 2026: 5,68 %" in page
    assert "Perlu −0,21 poin per tahun dari 5,83 % (2025)" in page
    assert '<title id="grafik-p0_pct-t">' in page and '<desc id="grafik-p0_pct-d">' in page


def test_the_trend_settings_change_the_projection(client: Client, admin: User, bps: Callable[..., int]) -> None:
    bps(BENGKAYANG)
    targets_save(
        targets=[TargetIn(BENGKAYANG, "p0_pct", 2026, Decimal("5.62"), "<", "RPJMD 2021–2026")],
        batch_id=None,
        actor=admin,
    )
    login(client, admin)
    ols = client.get(f"/pemantauan/{BENGKAYANG}/?jendela=10&metode=linear&penduga=ols").content.decode()
    # least squares over 2016–2025, −0,198 points a year: 5,83 − 0,198 = 5,63, still not below 5,62
    assert "Proyeksi 2026: 5,63 %" in ols and "bukan bawaan" in ols
    as_of_2022 = client.get(f"/pemantauan/{BENGKAYANG}/?jendela=semua").content.decode()
    assert "Proyeksi 2026" in as_of_2022


def test_the_page_in_english_uses_a_decimal_point(client: Client, admin: User, bps: Callable[..., int]) -> None:
    bps(BENGKAYANG)
    targets_save(
        targets=[TargetIn(BENGKAYANG, "p0_pct", 2026, Decimal("5.62"), "<", "RPJMD 2021–2026")],
        batch_id=None,
        actor=admin,
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = login(client, admin).get(f"/pemantauan/{BENGKAYANG}/").content.decode()
    assert cells(page, 2018)[0] == "7.17" and "Poverty headcount ratio (P0)" in page
    assert "At risk" in page and "Projection for 2026: 5.68 %" in page


def test_any_province_or_regency_can_be_found_and_opened(client: Client, admin: User, bps: Callable[..., int]) -> None:
    bps(KALBAR, BENGKAYANG)
    login(client, admin)
    found = client.get("/pemantauan/?q=bengkayang").content.decode()
    assert f'href="/pemantauan/{BENGKAYANG}/"' in found
    picked = client.get("/pemantauan/", {"wilayah": BENGKAYANG})
    assert picked.status_code == 302 and picked["Location"] == f"/pemantauan/{BENGKAYANG}/"
    picker = found[found.index('<select name="wilayah">') : found.index("</select>")]
    options = re.findall(r'<option value="([\d.]+)"', picker)
    assert len([o for o in options if len(o) == 2]) == 38 and len([o for o in options if len(o) == 5]) == 514
    province = client.get(f"/pemantauan/{KALBAR}/").content.decode()
    assert "Kabupaten/kota di provinsi ini" in province and f'href="/pemantauan/{BENGKAYANG}/"' in province
    assert client.get("/pemantauan/", {"wilayah": "a/b"}).status_code == 200  # not a code: the region's page
    assert client.get("/pemantauan/99.99/").status_code == 404
    assert client.get("/pemantauan/64.74.03/").status_code == 404  # districts have no BPS series


def test_an_imported_extreme_poverty_series_appears_with_its_source(client: Client, admin: User) -> None:
    series_values_save(
        values=[
            SeriesValueIn(BONTANG, "extreme_poor_pct", 2022, Decimal("0.9")),
            SeriesValueIn(BONTANG, "extreme_poor_pct", 2023, Decimal("0.4")),
        ],
        batch_id=None,
        source="Bappeda Kota Bontang",
    )
    targets_save(
        targets=[TargetIn(BONTANG, "extreme_poor_pct", 2024, Decimal(0), "<=", "Inpres 4/2022")],
        batch_id=None,
        actor=admin,
    )
    page = login(client, admin).get("/pemantauan/").content.decode()
    assert 'data-indicator="extreme_poor_pct"' in page and "Bappeda Kota Bontang" in page
    assert 'data-status="on_track"' in page  # linear: 0,4 − 0,5 → 0 by 2024
    assert "Sumber: Badan Pusat Statistik" not in page  # no BPS figure on this page


@pytest.mark.parametrize("role", [Role.PARTNER, Role.VILLAGE_OPERATOR, Role.AUDITOR])
def test_every_role_sees_the_statistics_but_only_tkpk_edits_targets(
    client: Client, make_user: Callable[..., User], bps: Callable[..., int], role: Role
) -> None:
    bps(BONTANG)
    user = make_user("u", role, area="64.74.03.1002" if role == Role.VILLAGE_OPERATOR else None)
    login(client, user)
    page = client.get("/pemantauan/").content.decode()
    assert 'data-latest="p0_pct">3,21 %' in page and "Tambah target" not in page
    assert client.get(f"/pemantauan/{BONTANG}/target/").status_code == 403
    post = client.post(f"/pemantauan/{BONTANG}/target/", {"indicator": "p0_pct", "comparison": "<=", "value": "3,75",
                                                          "year": 2026, "document": "RPJMD"})  # fmt: skip
    assert post.status_code == 403 and not Target.objects.exists()


def test_a_tkpk_analyst_enters_and_edits_a_target_with_a_decimal_comma(
    client: Client, make_user: Callable[..., User], bps: Callable[..., int]
) -> None:
    bps(BONTANG)
    analyst = make_user("analis", Role.TKPK_ANALYST)
    login(client, analyst)
    assert "Tambah target" in client.get("/pemantauan/").content.decode()
    form = {"indicator": "p0_pct", "comparison": "<=", "value": "3,75", "year": "2026", "document": "RPJMD 2021–2026"}
    response = client.post(f"/pemantauan/{BONTANG}/target/", form)
    assert response.status_code == 302 and response["Location"] == f"/pemantauan/{BONTANG}/"
    target = Target.objects.get()
    assert (target.value, target.comparison, target.created_by) == (Decimal("3.75"), "<=", analyst)
    page = client.get("/pemantauan/").content.decode()
    assert 'data-status="achieved"' in page and "Tercapai" in page  # 3,21 in 2025 already below 3,75
    edit = client.get(f"/pemantauan/{BONTANG}/target/{target.pk}/").content.decode()
    assert 'value="3,75"' in edit
    changed = {"comparison": "<", "value": "3", "baseline_year": "2020", "baseline_value": "4,38"}
    assert client.post(f"/pemantauan/{BONTANG}/target/{target.pk}/", changed).status_code == 302
    target.refresh_from_db()
    assert (target.value, target.comparison, target.baseline_value, target.document) == (
        Decimal("3"), "<", Decimal("4.38"), "RPJMD 2021–2026",
    )  # fmt: skip
    bad = client.post(f"/pemantauan/{BONTANG}/target/", {**form, "value": "tiga"})
    assert bad.status_code == 200 and Target.objects.count() == 1
    assert client.post(f"/pemantauan/{BONTANG}/target/{target.pk}/hapus/").status_code == 302
    assert not Target.objects.exists()


def test_targets_are_entered_only_for_the_own_region(client: Client, admin: User, bps: Callable[..., int]) -> None:
    bps(BENGKAYANG)
    login(client, admin)
    assert "Tambah target" not in client.get(f"/pemantauan/{BENGKAYANG}/").content.decode()
    assert client.get(f"/pemantauan/{BENGKAYANG}/target/").status_code == 403
