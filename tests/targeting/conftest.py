"""A synthetic Kota Bontang registry (DTSEN extract + exclusion list) for the targeting tests, and helpers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from tepat.accounts.models import User
from tepat.engine.synth import SynthConfig, generate
from tepat.intake.models import BatchStatus
from tepat.intake.services import import_file

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def bontang(admin: User) -> Iterator[Path]:
    """~1,500 persons in every village of Bontang, with the custodians' exclusion findings linked.

    A private temporary folder rather than ``tmp_path``: several pytest runs on one machine share
    /tmp/pytest-of-<user>, and each prunes the others' older numbered folders, files and all.
    """
    with tempfile.TemporaryDirectory(prefix="tepat-targeting-") as folder:
        out = Path(folder) / "synth"
        generate(SynthConfig(region="64.74", persons=1500, seed=21),
                 reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out)  # fmt: skip
        for name, kind in (("dtsen_extract.csv", "dtsen"), ("exclusion_list.csv", "exclusion")):
            outcome = import_file(actor=admin, path=out / name, kind=kind, source_name=name)
            assert outcome.batch.status == BatchStatus.COMMITTED, outcome.batch.error
        yield out


@pytest.fixture
def run_tasks(settings, django_capture_on_commit_callbacks) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    """Run background tasks inline, at commit, as the worker would right after."""
    settings.TASKS = IMMEDIATE

    def run(function: Callable[..., object], **kwargs: object) -> object:
        with django_capture_on_commit_callbacks(execute=True):
            return function(**kwargs)

    return run


@pytest.fixture(autouse=True)
def fresh_table_cache() -> Iterator[None]:
    """Each test starts without cached family tables: on SQLite, ids and batch times of a rolled-back test can come
    back in the next one, so a stamp is only unique within one database's history, not across tests."""
    from tepat.targeting.cache import CACHE

    CACHE.clear()
    yield
    CACHE.clear()
