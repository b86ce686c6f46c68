"""The ledger's amount in sen as a generated integer column (the refresh sums it without converting numerics), and
lz4 instead of pglz for the snapshot's large values on PostgreSQL (a refresh stores ~25 MB of them: 1.4 s of
compression with pglz, 0.2 s with lz4; a build of PostgreSQL without lz4 keeps pglz)."""

import django.db.models.expressions
import django.db.models.functions.comparison
import django.db.models.functions.math
from django.db import migrations, models

COMPRESSED = [("programs_analysisarea", "totals"), ("programs_analysisarea", "detail"),
              ("programs_analysislist", "rows")]  # fmt: skip


def lz4(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)")
        if cursor.fetchone() is None:
            return
        for table, column in COMPRESSED:
            cursor.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0007_drop_snapshots_without_lists"),
    ]

    operations = [
        migrations.AddField(
            model_name="benefit",
            name="amount_sen",
            field=models.GeneratedField(
                db_persist=True,
                expression=django.db.models.functions.comparison.Cast(
                    django.db.models.functions.math.Round(
                        django.db.models.expressions.CombinedExpression(models.F("amount"), "*", models.Value(100))
                    ),
                    models.BigIntegerField(),
                ),
                output_field=models.BigIntegerField(null=True),
            ),
        ),
        migrations.RunPython(lz4, migrations.RunPython.noop),
    ]
