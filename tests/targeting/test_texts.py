"""The engine's sentences reach the pages through gettext: the catalogue's msgids are the engine's Indonesian
templates, every shipped label has a msgid, and with the English switch an English catalogue is what users read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import translation

from tepat.accounts.models import User
from tepat.engine.rules import TEXTS
from tepat.engine.scorecard import BUILTIN, FAMILY_FIELDS, SCORECARD_DIR
from tepat.intake.services import ImportOutcome
from tepat.targeting.texts import LABELS, RULE_TEXTS

from ..conftest import PASSWORD

K1 = "6474031203150001"  # desil 2 in the extract of tests/conftest.py


def test_the_web_catalogue_repeats_the_engine_templates_exactly() -> None:
    with translation.override("id"):
        assert {key: str(template) for key, template in RULE_TEXTS.items()} == TEXTS


def test_every_shipped_field_and_scorecard_label_has_a_msgid() -> None:
    shipped = {spec.label for spec in FAMILY_FIELDS}
    for card in BUILTIN:
        data = json.loads((SCORECARD_DIR / f"{card}.json").read_text(encoding="utf-8"))
        shipped |= {data["name"], data["source"], *(i["label"] for i in data["indicators"])}
        shipped |= {d["label"] if isinstance(d, dict) else d for d in data.get("dimensions", {}).values()}
        if data.get("outright_if"):
            shipped.add(data["outright_if"]["label"])
    assert shipped - set(LABELS) == set()


ENGLISH = {
    "Memenuhi syarat: {clause} ({values})": "Eligible: {clause} ({values})",
    "Tidak memenuhi syarat: {clause} ({values})": "Not eligible: {clause} ({values})",
    "ya": "yes",
    "nama kolom {name!r} tidak dikenal (maksud Anda {suggestion!r}?)": "unknown field {name!r} (did you mean "
    "{suggestion!r}?)",
    "posisi {position}: {message}": "position {position}: {message}",
    "Jumlah anggota keluarga": "Number of family members",
}


@pytest.fixture
def english_catalogue(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """A small English catalogue in front of the shipped one: the lead fills the real one from the same msgids."""
    folder = tmp_path / "locale" / "en" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalogue = polib.POFile()
    catalogue.metadata = {"Content-Type": "text/plain; charset=utf-8", "Language": "en"}
    for msgid, msgstr in ENGLISH.items():
        catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr))
    catalogue.save_as_mofile(str(folder / "django.mo"))
    settings.LOCALE_PATHS = [tmp_path / "locale", *django_settings.LOCALE_PATHS]


@pytest.mark.django_db
def test_with_the_english_switch_reasons_and_rule_problems_are_english(
    client: Client, admin: User, imported: ImportOutcome, english_catalogue: None
) -> None:
    assert client.login(username=admin.username, password=PASSWORD)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/penargetan/aturan/uji/", {"ekspresi": "desil <= 2", "keluarga": K1}).content.decode()
    assert "Eligible: desil &lt;= 2 (desil = 2)" in page and "Memenuhi syarat: desil" not in page
    check = client.post("/penargetan/aturan/periksa/", {"expression": "desill <= 2"}).content.decode()
    assert "position 1: unknown field &#x27;desill&#x27; (did you mean &#x27;desil&#x27;?)" in check
    editor = client.get("/penargetan/aturan/baru/").content.decode()
    assert "Number of family members" in editor
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "id"
    page = client.get("/penargetan/aturan/uji/", {"ekspresi": "desil <= 2", "keluarga": K1}).content.decode()
    assert "Memenuhi syarat: desil &lt;= 2 (desil = 2)" in page


def test_the_targeting_pages_import_without_the_optimiser_or_scikit_learn() -> None:
    """A web process imports the URLs at start: scipy (the optimiser) and scikit-learn (PMT) load only when a
    scenario runs or a model is fitted, so the pages start in about a second instead of several."""
    code = (
        "import sys, django; django.setup(); import tepat.targeting.urls, tepat.targeting.tasks; "
        "print(sorted(m for m in ('scipy', 'sklearn', 'pandas') if m in sys.modules))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "tepat.config.settings", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
