"""The poverty map: figures equal to the registry's, scoped by who asks, pockets found on Bontang's real outlines."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tepat.accounts.models import Role, User
from tepat.areas.models import Area, Level
from tepat.intake.services import ImportOutcome
from tepat.maps import shapes
from tepat.programs.models import Benefit, Program
from tepat.registry.models import (
    Exclusion,
    ExclusionKind,
    Family,
    FamilyStatus,
    Membership,
    Person,
    RegistryFlag,
    VitalStatus,
)
from tepat.registry.selectors import forget_figures

from ..conftest import PASSWORD

pytestmark = pytest.mark.django_db
BONTANG_VILLAGES = 15


def login(client: Client, user: User) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


def geojson(client: Client, **params: str) -> dict[str, Any]:
    response = client.get("/peta/data.geojson", params)
    assert response.status_code == 200 and response["Content-Type"].startswith("application/geo+json")
    return dict(json.loads(response.content))


def by_code(collection: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["code"]: f["properties"] for f in collection["features"]}


def add_families(village: str, desil: list[int | None]) -> list[Family]:
    return Family.objects.bulk_create([Family(village_id=village, desil_national=d) for d in desil])


@pytest.fixture(autouse=True)
def fresh_figures() -> None:
    """Rolled-back tests reuse SQLite's ids, so a kept count could outlive its data: start each test without."""
    forget_figures()


@pytest.fixture
def registry(imported: ImportOutcome) -> ImportOutcome:
    """The shared DTSEN extract (3 families) plus families written directly: retired ones, unknown desil."""
    add_families("64.74.03.1002", [1, 1, 3, 5, 7, None])
    add_families("64.74.01.1003", [4, 4, 10])
    Family.objects.bulk_create([Family(village_id="64.74.01.1003", desil_national=1, status=FamilyStatus.RETIRED)])
    return imported


def test_the_geojson_counts_equal_the_registry(client: Client, admin: User, registry: ImportOutcome) -> None:
    data = geojson(login(client, admin), level="village", indicator="poor")
    features = by_code(data)
    assert len(features) == BONTANG_VILLAGES and data["scope"] == "64.74" and data["level"] == "village"
    active = Family.objects.filter(status=FamilyStatus.ACTIVE)
    for code, p in features.items():
        in_village = active.filter(village_id=code)
        assert p["families"] == in_village.count()
        assert p["poor"] == in_village.filter(desil_national__in=[1, 2, 3, 4]).count()
        assert p["extreme"] == in_village.filter(desil_national=1).count()
        assert p["value"] == (p["poor"] if p["families"] else None)
    assert features["64.74.03.1002"]["families"] == 7 and features["64.74.03.1002"]["poor"] == 4
    assert features["64.74.01.1003"]["rate"] == pytest.approx(66.67)
    assert features["64.74.02.1002"]["families"] == 0 and features["64.74.02.1002"]["class"] is None
    from shapely.geometry import shape

    outline = shape(data["features"][0]["geometry"])
    assert outline.geom_type in {"Polygon", "MultiPolygon"} and outline.is_valid and outline.area > 0


def test_rates_and_district_totals(client: Client, admin: User, registry: ImportOutcome) -> None:
    login(client, admin)
    villages = by_code(geojson(client, level="village", indicator="rate"))
    districts = geojson(client, level="district", indicator="rate")
    assert len(districts["features"]) == 3
    for code, p in by_code(districts).items():
        inside = [v for c, v in villages.items() if c.startswith(code + ".")]
        assert p["families"] == sum(v["families"] for v in inside)
        assert p["poor"] == sum(v["poor"] for v in inside)
        assert p["value"] == pytest.approx(100 * p["poor"] / p["families"], abs=0.01)
    assert districts["pockets"]["skipped"] == "too_few_areas"  # three districts cannot make a pocket


def test_flagged_families_count_findings_exclusions_and_deaths(
    client: Client, admin: User, registry: ImportOutcome
) -> None:
    batch = registry.batch
    clean = Family.objects.get(kk="6474011405180003")
    RegistryFlag.objects.filter(family=clean).delete()
    member = Membership.objects.filter(family=clean, active=True).first()
    assert member is not None
    Exclusion.objects.create(nik=member.person.nik or "", person=member.person, kind=ExclusionKind.CAR_OWNER,
                             batch=batch)  # fmt: skip
    resolved = add_families("64.74.01.1003", [2])[0]
    RegistryFlag.objects.create(kind="kk_invalid", family=resolved, resolved_at="2026-10-01T00:00:00Z")
    # A member recorded dead is a finding too (the dashboard's definition, so both show the same number).
    dead = Membership.objects.filter(family__kk="6474021010200004", active=True).first()
    assert dead is not None
    RegistryFlag.objects.filter(family=dead.family).delete()
    Person.objects.filter(pk=dead.person_id).update(vital_status=VitalStatus.DECEASED)
    features = by_code(geojson(login(client, admin), indicator="flagged"))
    expected: Counter[str] = Counter()
    for family in Family.objects.filter(status=FamilyStatus.ACTIVE):
        members = Membership.objects.filter(family=family, active=True).values("person")
        if (
            RegistryFlag.objects.filter(family=family, resolved_at__isnull=True).exists()
            or RegistryFlag.objects.filter(person__in=members, resolved_at__isnull=True).exists()
            or Exclusion.objects.filter(person__in=members).exists()
            or Person.objects.filter(pk__in=members, vital_status=VitalStatus.DECEASED).exists()
        ):
            expected[family.village_id] += 1
    assert expected["64.74.01.1001"] == 1  # the excluded car owner's family
    assert expected["64.74.02.1001"] == 1  # Sri Wahyuni, recorded dead
    for code, p in features.items():
        assert p["flagged"] == expected[code], code
        assert p["value"] == (expected[code] if p["families"] else None)


def test_the_coverage_gap_counts_poor_families_nobody_in_which_got_a_benefit(
    client: Client, admin: User, registry: ImportOutcome
) -> None:
    program = Program.objects.create(code="pkh", name="PKH")
    served = Family.objects.get(kk="6474031203150001")  # desil 2, 64.74.03.1002
    member = Membership.objects.filter(family=served, active=True).last()
    assert member is not None
    Benefit.objects.create(program=program, period="2026-Q3", person=member.person, batch=registry.batch)
    features = by_code(geojson(login(client, admin), indicator="gap"))
    assert features["64.74.03.1002"]["poor"] == 4 and features["64.74.03.1002"]["gap"] == 3
    assert features["64.74.02.1001"]["gap"] == 1  # Sri Wahyuni, desil 1, on no list
    assert features["64.74.01.1001"]["gap"] == 0  # desil 9: not poor, so never a gap


def test_a_village_operator_gets_their_village_only(
    client: Client, make_user: Callable[..., User], registry: ImportOutcome
) -> None:
    operator = make_user("kel", Role.VILLAGE_OPERATOR, area="64.74.03.1002")
    data = geojson(login(client, operator), level="district", indicator="poor")
    assert [f["properties"]["code"] for f in data["features"]] == ["64.74.03.1002"]
    assert data["level"] == "village" and data["scope"] == "64.74.03.1002"
    village = Area.objects.get(code="64.74.03.1002").boundary
    assert data["bbox"] == pytest.approx([village.min_lon, village.min_lat, village.max_lon, village.max_lat], abs=1e-4)
    props = data["features"][0]["properties"]
    assert props["families_url"] == "/keluarga/?wilayah=64.74.03.1002" and props["families"] == 7
    # the legend is made of what the operator sees: its bounds never show another village's figure
    assert [(c["lower"], c["upper"], c["count"]) for c in data["legend"]["classes"]] == [(4, 4, 1)]
    page = client.get("/peta/").content.decode()
    assert page.count('<tr data-code="') == 1 and "Gunung Telihan" in page and "Bontang Kuala" not in page


def test_a_district_user_sees_the_villages_of_the_district(
    client: Client, make_user: Callable[..., User], registry: ImportOutcome
) -> None:
    analyst = make_user("camat", Role.TKPK_ANALYST, area="64.74.01")
    codes = set(by_code(geojson(login(client, analyst))))
    expected = set(
        Area.objects.filter(code__startswith="64.74.01.", level=Level.VILLAGE).values_list("code", flat=True)
    )
    assert codes == expected and len(codes) == 6


@pytest.mark.parametrize("role", [Role.PARTNER, Role.AUDITOR])
def test_partners_and_auditors_get_figures_without_family_links(
    client: Client, make_user: Callable[..., User], registry: ImportOutcome, role: Role
) -> None:
    user = make_user("luar", role, org="PT Contoh" if role == Role.PARTNER else None)
    login(client, user)
    features = by_code(geojson(client))
    assert features["64.74.03.1002"]["families"] == 7
    assert all("families_url" not in p and p["overview_url"].startswith("/wilayah/") for p in features.values())
    page = client.get("/peta/").content.decode()
    assert "/keluarga/?wilayah=" not in page and "Gunung Telihan" in page


def test_users_without_aggregates_or_login_get_nothing(
    client: Client, make_user: Callable[..., User], db: None
) -> None:
    assert client.get("/peta/data.geojson")["Location"].startswith("/accounts/login/")
    outsider = make_user("luar", Role.TKPK_ANALYST, area="61.01")  # an area outside the deployment region
    login(client, outsider)
    assert client.get("/peta/data.geojson").status_code == 403
    assert client.get("/peta/").status_code == 403


def test_the_page_shows_the_map_legend_and_tables(client: Client, admin: User, registry: ImportOutcome) -> None:
    page = login(client, admin).get("/peta/", {"indicator": "rate"}).content.decode()
    assert 'id="map"' in page and "vendor/leaflet/leaflet.js" in page and "tepat/maps.js" in page
    assert 'data-geojson="/peta/data.geojson?level=village&amp;indicator=rate' in page
    assert 'data-tiles=""' in page  # no tile server unless the deployment sets one: works offline
    assert page.count('<tr data-code="') == BONTANG_VILLAGES
    assert 'id="map-legend"' in page and "66,7" in page
    # 4 of 15 kelurahan have families: too few for pockets, and the page says so instead of an empty table
    assert 'data-pockets="skipped"' in page and "hanya 4 wilayah" in page and 'id="pocket-table"' not in page
    assert "66,7" in page  # Indonesian decimals: 2 of 3 families in 64.74.01.1003
    assert 'id="map-labels"' in page and "/keluarga/?wilayah=64.74.03.1002" in page


def test_the_downloads(client: Client, admin: User, registry: ImportOutcome) -> None:
    login(client, admin)
    download = client.get("/peta/data.geojson", {"indicator": "extreme", "download": "1"})
    assert download["Content-Disposition"].startswith('attachment; filename="peta-extreme-village-64.74-')
    svg = client.get("/peta/peta.svg", {"indicator": "rate", "download": "1"})
    assert svg["Content-Type"] == "image/svg+xml" and svg["Content-Disposition"].endswith('.svg"')
    root = ET.fromstring(svg.content)
    paths = root.findall(".//{http://www.w3.org/2000/svg}path")
    assert len(paths) >= BONTANG_VILLAGES
    text = svg.content.decode()
    assert "Persentase keluarga miskin" in text and "Kota Bontang" in text and "tidak ada data" in text
    assert 'viewBox="0 0 ' in text and "," not in root.attrib["viewBox"]  # coordinates never localised


def test_simplified_layers_keep_neighbours_touching(admin: User, db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shapes, "SIMPLIFY_ABOVE", 100)
    shapes.forget()
    try:
        from shapely.geometry import shape

        villages = list(shapes.areas_below("64.74", Level.VILLAGE).values_list("code", flat=True))
        assert len(villages) == BONTANG_VILLAGES
        layer = shapes.layer("test", villages)
        assert layer.simplified and len(layer.shapes) == BONTANG_VILLAGES
        polygons = {c: shape(json.loads(s.geometry)) for c, s in layer.shapes.items()}
        neighbours = shapes.neighbours("test", villages)
        for code, others in neighbours.contiguous.items():
            for other in others:
                assert polygons[code].distance(polygons[other]) < 1e-4, (code, other)
    finally:
        shapes.forget()


def test_a_planted_pocket_on_bontang_is_found_and_listed(client: Client, admin: User, db: None) -> None:
    """Kelurahan Gunung Telihan and its neighbours poor (80 %), the rest of the city well-off (5–15 %)."""
    neighbours = shapes.neighbours(
        "test", list(shapes.areas_below("64.74", Level.VILLAGE).values_list("code", flat=True))
    )
    centre = "64.74.03.1002"
    pocket = {centre, *neighbours.contiguous[centre]}
    for i, code in enumerate(neighbours.ids):
        poor = 16 if code in pocket else 1 + i % 3
        add_families(code, [2] * poor + [8] * (20 - poor))
    data = geojson(login(client, admin), indicator="rate")
    features = by_code(data)
    assert features[centre]["pocket"] == "hot"
    assert data["pockets"]["moran_i"] > 0.3 and data["pockets"]["moran_p"] < 0.01
    hot = {c for c, p in features.items() if p["pocket"] == "hot"}
    assert hot <= pocket and len(hot) >= 2
    page = client.get("/peta/", {"indicator": "rate"}).content.decode()
    table = page.split('id="pocket-table"')[1].split("</table>")[0]
    assert f'data-code="{centre}" data-pocket="hot"' in table and "kantong kemiskinan" in table
    corrected = geojson(client, indicator="rate", fdr="1")
    assert corrected["pockets"]["fdr"] is True
    assert {c for c, p in by_code(corrected).items() if p["pocket"] == "hot"} <= hot
    assert 'name="fdr" value="1" checked' in client.get("/peta/", {"fdr": "1"}).content.decode()
