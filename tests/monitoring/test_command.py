from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from tepat.errors import UserError

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("bps", *args, stdout=out)
    return out.getvalue()


def test_bps_load_prints_counts_and_is_idempotent() -> None:
    first = run("load").splitlines()
    assert first[:5] == ["rows read: 11553", "values: 23002", "created: 23002", "changed: 0", "unchanged: 0"]
    assert first[5:] == [
        "p0_pct in database: 11552",  # one row has only a poor count
        "poor_thousand in database: 11450",  # early years of some regencies have only P0
        "Sumber: Badan Pusat Statistik (BPS)",
    ]
    again = run("load").splitlines()
    assert again[2:5] == ["created: 0", "changed: 0", "unchanged: 23002"]


def test_bps_load_explains_a_missing_data_folder(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="berkas data BPS tidak ditemukan"):
        run("load", "--data-dir", str(tmp_path))
