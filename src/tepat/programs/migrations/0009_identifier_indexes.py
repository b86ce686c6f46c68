"""The ledger's NIK indexed by a named index instead of db_index: no LIKE twin on PostgreSQL (registry 0008)."""

from django.db import migrations, models

from tepat.registry.schema import index_instead_of_db_index

INDEXES = [("benefit", "nik", models.Index(fields=["nik"], name="benefit_nik"))]


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0008_ledger_amount_sen"),
        ("registry", "0008_identifier_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="benefit", name="nik", field=models.CharField(blank=True, max_length=16)
                ),
                migrations.AddIndex(model_name="benefit", index=INDEXES[0][2]),
            ],
            database_operations=[
                migrations.RunPython(index_instead_of_db_index("programs", INDEXES), migrations.RunPython.noop)
            ],
        ),
    ]
