"""The indicators the product knows from the start: the two shipped BPS series and extreme poverty (imported)."""

from django.db import migrations

from tepat.monitoring.indicators import BUILTIN_INDICATORS as INDICATORS


def add(apps, schema_editor):
    Indicator = apps.get_model("monitoring", "Indicator")
    for row in INDICATORS:
        Indicator.objects.update_or_create(code=row["code"], defaults=row)


def remove(apps, schema_editor):
    apps.get_model("monitoring", "Indicator").objects.filter(code__in=[r["code"] for r in INDICATORS]).delete()


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
