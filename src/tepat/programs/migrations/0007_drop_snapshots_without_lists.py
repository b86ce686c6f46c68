"""Snapshots stored before 0006 have no per-village lists (their AnalysisFamily rows went with the table): they
are removed, so the next page view queues a refresh instead of exporting empty lists."""

from django.db import migrations


def drop_snapshots(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("programs", "AnalysisSnapshot").objects.all().delete()  # derived data: computed again


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0006_analysis_lists_per_village"),
    ]

    operations = [
        migrations.RunPython(drop_snapshots, migrations.RunPython.noop),
    ]
