"""A small ledger over the shared test extract (tests/conftest.py): three families in three villages.

K1 (64.74.03.1002, desil 2): Ahmad Fauzi, Nur Aisyah, a child — on PKH and on Sembako (listed as "Sembako (BPNT)").
K2 (64.74.01.1001, desil 9): Budi Santoso, a civil servant by the BKN list — on PKH: leakage twice over.
K3 (64.74.02.1001, desil 1): Sri Wahyuni, extreme poor, her NIK invalid — on nothing: the exclusion error.
One PKH row names a NIK the registry does not know, in 64.74.01.1001.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import Organisation, Role, User
from tepat.intake.services import ImportOutcome, import_file
from tepat.programs.models import Program, Strategy
from tests.conftest import PASSWORD

LISTS = textwrap.dedent("""\
    program,periode,nik,nama,nominal,kode_desa
    PKH,2026-Q3,6474035508880002,Nur Aisyah,750000,64.74.03.1002
    PKH,2026-Q3,6474010101700003,Budi Santoso,750000,64.74.01.1001
    PKH,2026-Q3,6474014501900009,Orang Asing,750000,64.74.01.1001
    Sembako (BPNT),2026-Q3,6474031207850001,Ahmad Fauzi,600000,64.74.03.1002
""")
EXCLUSIONS = "nik,jenis_pengecualian,sumber\n6474010101700003,asn,BKN\n"


@pytest.fixture(autouse=True)
def catalogue(db: None) -> None:
    """What the data migration loads (tests run with --no-migrations)."""
    from tepat.programs.catalogue import Catalogue, load_catalogue

    load_catalogue(Catalogue.read(Path(settings.DATA_DIR)), strategy_model=Strategy, program_model=Program,
                   organisation_model=Organisation)  # fmt: skip


IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def inline_tasks(settings) -> None:  # type: ignore[no-untyped-def]
    """The analyses' refresh runs inline, as the worker would right after the page queued it (tests that check
    the queue itself switch back to the database backend)."""
    settings.TASKS = IMMEDIATE


@pytest.fixture
def ledger(imported: ImportOutcome, admin: User, tmp_path: Path) -> ImportOutcome:
    (tmp_path / "penerima.csv").write_text(LISTS, encoding="utf-8")
    (tmp_path / "asn.csv").write_text(EXCLUSIONS, encoding="utf-8")
    import_file(actor=admin, path=tmp_path / "asn.csv", kind="exclusion", source_name="BKN")
    return import_file(actor=admin, path=tmp_path / "penerima.csv", kind="program", source_name="Dinsos")


@pytest.fixture
def legacy_ledger(ledger: ImportOutcome) -> ImportOutcome:
    """The same lists as imported before the writer knew aliases: "Sembako (BPNT)" as a bare program of its own."""
    from tepat.programs.models import Benefit, Program

    bare = Program.objects.create(code="Sembako (BPNT)", name="Sembako (BPNT)")
    Benefit.objects.filter(batch=ledger.batch, program__code="SEMBAKO").update(program=bare)
    return ledger


@pytest.fixture
def partner(make_user: Callable[..., User]) -> User:
    return make_user("mitra", Role.PARTNER, org="PT Mitra Sejahtera")


@pytest.fixture
def client_for():  # type: ignore[no-untyped-def]
    from django.test import Client

    def login(user: User) -> Client:
        client = Client()
        assert client.login(username=user.username, password=PASSWORD)
        return client

    return login
