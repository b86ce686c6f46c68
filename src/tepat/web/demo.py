"""Building the demo instance: real areas, a synthetic registry for the deployment region, one user per role."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tepat.accounts.models import Organisation, OrganisationKind, Role, User
from tepat.accounts.services import user_create
from tepat.areas.models import Area, Boundary, Level
from tepat.areas.services import areas_load
from tepat.engine.synth import SynthConfig, generate
from tepat.errors import UserError
from tepat.intake.models import SourceKind
from tepat.intake.services import ImportOutcome, import_file
from tepat.linkage.services import linkage_run_create
from tepat.linkage.tasks import run_linkage
from tepat.monitoring.services import TargetIn, bps_series_load, targets_save
from tepat.programs.demo import demo_programs
from tepat.registry.models import Family
from tepat.targeting.services import targeting_demo
from tepat.verification.services import field_visit_record

DEMO_PASSWORD = "tepat-demo"  # demo only: printed on the console, never used by a real deployment


@dataclass
class DemoAccount:
    username: str
    role: Role
    area: str | None
    organisation: str | None
    note: str


def demo_accounts(region: str) -> list[DemoAccount]:
    districts = list(Area.objects.filter(level=Level.DISTRICT, code__startswith=region + ".").order_by("code"))
    villages = list(Area.objects.filter(level=Level.VILLAGE, code__startswith=region + ".").order_by("code"))
    if not districts or not villages:
        raise UserError(f"region {region} has no districts or villages in the reference data")
    district = districts[-1]
    village = next((v for v in villages if v.code.startswith(district.code + ".")), villages[0])
    return [
        DemoAccount("admin", Role.TKPK_ADMIN, None, "Bappeda (Sekretariat TKPK)", "seluruh wilayah"),
        DemoAccount("analis", Role.TKPK_ANALYST, None, "Bappeda (Sekretariat TKPK)", "seluruh wilayah"),
        DemoAccount("dinsos", Role.AGENCY_OPERATOR, None, "Dinas Sosial", "seluruh wilayah"),
        DemoAccount("kelurahan", Role.VILLAGE_OPERATOR, village.code, None, village.label),
        DemoAccount("enumerator", Role.ENUMERATOR, district.code, None, district.label),
        DemoAccount("mitra", Role.PARTNER, None, "CSR PT Mitra Sejahtera (fiktif)", "NIK tersamar"),
        DemoAccount("auditor", Role.AUDITOR, None, "Inspektorat Daerah", "baca saja + log audit"),
    ]


_ORG_KINDS = {
    "Bappeda (Sekretariat TKPK)": OrganisationKind.TKPK,
    "Dinas Sosial": OrganisationKind.AGENCY,
    "CSR PT Mitra Sejahtera (fiktif)": OrganisationKind.COMPANY,
    "Inspektorat Daerah": OrganisationKind.AGENCY,
}


def demo_build(*, persons: int, seed: int, progress: Any) -> tuple[list[DemoAccount], ImportOutcome]:
    """Migrate a fresh database, load Indonesia's areas, synthesise and import the region's registry."""
    region = settings.TEPAT_REGION
    call_command("migrate", verbosity=0, interactive=False)
    progress("wilayah", 0, 1)
    # The whole code list, boundaries only for the region: `tepat areas load` loads all of them when wanted.
    areas_load(data_dir=Path(settings.DATA_DIR), boundaries=True, within=region, progress=None)
    progress("wilayah", 1, 1)
    bps_series_load(data_dir=Path(settings.DATA_DIR))
    if not Area.objects.filter(code=region).exists():
        raise UserError(f"TEPAT_REGION={region} is not a known area code")
    out = Path(settings.VAR_DIR) / "demo-data"
    out.mkdir(parents=True, exist_ok=True)
    generate(
        SynthConfig(region=region, persons=persons, seed=seed),
        reference_dir=Path(settings.DATA_DIR) / "reference",
        out_dir=out,
        progress=lambda done, total: progress("synth", done, total),
    )
    accounts = demo_accounts(region)
    admin: User | None = None
    for account in accounts:
        org = None
        if account.organisation:
            org, _ = Organisation.objects.get_or_create(
                name=account.organisation, defaults={"kind": _ORG_KINDS[account.organisation]}
            )
        user = user_create(
            actor=admin,
            username=account.username,
            password=DEMO_PASSWORD,
            role=account.role,
            area_code=account.area,
            organisation=org,
        )
        admin = admin or user
    result = import_file(
        actor=admin,
        path=out / "dtsen_extract.csv",
        kind=SourceKind.DTSEN,
        source_name="DTSEN Kemensos (sintetis)",
        progress=progress,
    )
    # The other lists a regency receives: recipients of each program, deaths, custodians' exclusion matches.
    for path, kind, source in [
        *((p, SourceKind.PROGRAM, f"Penyalur {p.stem.removeprefix('program_').upper()} (sintetis)")
          for p in sorted(out.glob("program_*.csv"))),
        (out / "death_list.csv", SourceKind.DEATH, "Disdukcapil (sintetis)"),
        (out / "moved_list.csv", SourceKind.MOVED, "Disdukcapil — pindah (sintetis)"),
        (out / "exclusion_list.csv", SourceKind.EXCLUSION, "Pemadanan instansi (sintetis)"),
    ]:  # fmt: skip
        import_file(actor=admin, path=path, kind=kind, source_name=source, progress=progress)
    # Programs: the partners' programs completed, the lists folded into the national catalogue, an example RAT;
    # targeting: example eligibility rules and the local scores (seconds for the whole registry).
    assert admin is not None  # demo_accounts() always starts with the TKPK admin
    demo_programs(admin=admin)
    targeting_demo(actor=admin)
    # An illustrative target, so the monitoring page shows a status (the region enters its own RPJMD figure).
    targets_save(targets=[TargetIn(region, "p0_pct", 2026, Decimal("3.00"), "<=", "RPJMD (contoh demo)")],
                 batch_id=None, actor=admin)  # fmt: skip
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    demo_visits(region=region, seed=seed)
    # Deduplication takes a few seconds per 100,000 persons: queued for the worker, so serving starts at once.
    run_linkage.enqueue(linkage_run_create(actor=admin).pk)
    return accounts, result


# What enumerators report in a verval round, roughly: most houses as listed, some changed, a few gone.
_OUTCOMES = [
    ("confirmed", 70, ""),
    ("changed", 10, "Jumlah anggota berubah: anak pertama sudah menikah dan pindah KK."),
    ("moved", 6, "Rumah kosong; menurut tetangga pindah ke luar kota."),
    ("not_found", 5, "Alamat tidak ditemukan; RT setempat tidak mengenal keluarga ini."),
    ("died", 4, "Kepala keluarga meninggal dunia bulan lalu."),
    ("well_off", 3, "Rumah sudah permanen dan ada mobil di garasi."),
    ("refused", 2, ""),
]


def demo_visits(*, region: str, seed: int, visits: int = 120) -> None:
    """A verval round by the demo enumerator in the district it covers, so family pages show field visits."""
    enumerator = User.objects.get(username="enumerator")
    families = list(Family.objects.visible_to(enumerator).filter(desil_national__lte=4).order_by("pk")[: visits * 20])
    if not families:
        return
    rng = random.Random(seed)
    points = {b.area_id: b for b in Boundary.objects.filter(area__code__startswith=region)}
    today = timezone.localdate()
    outcomes, weights = [o[0] for o in _OUTCOMES], [o[1] for o in _OUTCOMES]
    notes = {o[0]: o[2] for o in _OUTCOMES}
    for family in rng.sample(families, min(visits, len(families))):
        outcome = rng.choices(outcomes, weights)[0]
        point = points.get(family.village_id)
        lat = lon = ""
        if point is not None and rng.random() < 0.8:
            lat = f"{rng.uniform(point.min_lat, point.max_lat):.6f}"
            lon = f"{rng.uniform(point.min_lon, point.max_lon):.6f}"
        field_visit_record(
            actor=enumerator,
            family=family,
            visited_on=today - dt.timedelta(days=rng.randint(1, 60)),
            purpose="verval",
            outcome=outcome,
            officer=rng.choice(["Wahyu (pendamping PKH)", "Rina (TKSK)", "Agus (operator SIKS-NG desa)"]),
            notes=notes[outcome],
            latitude=lat,
            longitude=lon,
        )
