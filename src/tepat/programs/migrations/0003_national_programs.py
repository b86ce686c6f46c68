"""Strategy tags and the national programs (data/programs/), so every deployment starts with them."""

from pathlib import Path

from django.conf import settings
from django.db import migrations

from tepat.programs.catalogue import Catalogue, load_catalogue


def load(apps, schema_editor):
    if not (Path(settings.DATA_DIR) / "programs" / "national.json").exists():
        return  # a deployment with its own data folder loads it later with `tepat programs load`
    load_catalogue(
        Catalogue.read(Path(settings.DATA_DIR)),
        strategy_model=apps.get_model("programs", "Strategy"),
        program_model=apps.get_model("programs", "Program"),
        organisation_model=apps.get_model("accounts", "Organisation"),
    )


class Migration(migrations.Migration):
    dependencies = [("programs", "0002_ledger_plans_adoption"), ("accounts", "0004_alter_auditevent_action")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
