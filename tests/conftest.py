"""Shared fixtures. The whole Kemendagri code list is loaded once per test session (as a deployment would have
it), with boundaries only for Kota Bontang to keep the session fast; tests then run in transactions."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import Organisation, OrganisationKind, Role, User
from tepat.accounts.services import user_create
from tepat.intake.services import ImportOutcome, import_file

REGION = "64.74"
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    from tepat.areas.services import areas_load

    with django_db_blocker.unblock():
        areas_load(data_dir=Path(settings.DATA_DIR), boundaries=True, within=REGION)


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str, role: Role, area: str | None = None, org: str | None = None) -> User:
        organisation = None
        if org:
            organisation, _ = Organisation.objects.get_or_create(
                name=org,
                defaults={"kind": OrganisationKind.COMPANY if role == Role.PARTNER else OrganisationKind.AGENCY},
            )
        return user_create(
            actor=None, username=username, password=PASSWORD, role=role, area_code=area, organisation=organisation
        )

    return make


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin", Role.TKPK_ADMIN)


# A DTSEN-like extract as small as possible while still showing the real faults: a woman's NIK (day + 40),
# an Excel-damaged NIK, a NIK listed in two KKs, an invalid NIK, two villages in two districts.
EXTRACT = textwrap.dedent("""\
    id_keluarga,id_rumah_tangga,no_kk,nik,nama,jenis_kelamin,tempat_lahir,tanggal_lahir,hubungan_keluarga,nama_ibu_kandung,alamat,rt,rw,kode_desa,desil_nasional,tanggal_data,jenis_lantai,daya_listrik,aset_mobil
    K1,R1,6474031203150001,6474031207850001,Ahmad Fauzi,L,Bontang,1985-07-12,Kepala Keluarga,Siti Aminah,Jl. Cipto Mangunkusumo No. 12,003,002,64.74.03.1002,2,2026-09-30,Semen,450 VA,Tidak
    K1,R1,6474031203150001,6474035508880002,Nur Aisyah,P,Bontang,1988-08-15,Istri,Hasnah,Jl. Cipto Mangunkusumo No. 12,003,002,64.74.03.1002,2,2026-09-30,Semen,450 VA,Tidak
    K1,R1,6474031203150001,6.47403E+15,Muhammad Rizky,L,Bontang,2012-01-03,Anak,Nur Aisyah,Jl. Cipto Mangunkusumo No. 12,003,002,64.74.03.1002,2,2026-09-30,Semen,450 VA,Tidak
    K2,R2,6474011405180003,6474010101700003,Budi Santoso,L,Makassar,1970-01-01,Kepala Keluarga,Wa Ode,Jl. Awang Long No. 3,001,001,64.74.01.1001,9,2026-09-30,Keramik,2200 VA,Ya
    K2,R2,6474011405180003,6474031207850001,Ahmad Fauzi,L,Bontang,1985-07-12,Famili Lain,Siti Aminah,Jl. Awang Long No. 3,001,001,64.74.01.1001,9,2026-09-30,Keramik,2200 VA,Ya
    K3,R3,6474021010200004,6474020000000000,Sri Wahyuni,P,Bontang,1990-04-20,Kepala Keluarga,Marni,Gg. Damai,010,,64.74.02.1001,1,2026-09-30,Tanah,Tanpa listrik,Tidak
    K4,R4,6474021010200005,6474025104900005,Tanpa Desa,P,Bontang,1990-04-11,Kepala Keluarga,Marni,Gg. Damai,010,,99.99.99.9999,1,2026-09-30,Tanah,Tanpa listrik,Tidak
""")


@pytest.fixture
def extract_file(tmp_path: Path) -> Path:
    path = tmp_path / "dtsen_extract.csv"
    path.write_text(EXTRACT, encoding="utf-8")
    return path


@pytest.fixture
def imported(db: None, admin: User, extract_file: Path) -> ImportOutcome:
    return import_file(actor=admin, path=extract_file, kind="dtsen", source_name="DTSEN uji")


@pytest.fixture(autouse=True)
def _fresh_kept_figures() -> Iterator[None]:
    """Pages keep per-village figures under a stamp of the data's newest ids; SQLite reuses ids after a test's
    rollback, so a stamp could outlive its data from one test to the next."""
    from tepat.registry.selectors import forget_figures

    forget_figures()
    yield
    forget_figures()
