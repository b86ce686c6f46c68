"""Identifiers (NIK, KK, source keys) indexed by named indexes instead of db_index: on PostgreSQL a db_index
CharField also gets a LIKE (varchar_pattern_ops) index, which nothing asks of identifiers and every import kept.
Person.merged_into is indexed only where set (almost every person is merged into nobody)."""

import django.db.models.deletion
from django.db import migrations, models

from tepat.registry.schema import index_instead_of_db_index

INDEXES = [
    ("family", "kk", models.Index(fields=["kk"], name="family_kk")),
    ("family", "source_key", models.Index(fields=["source_key"], name="family_source_key")),
    ("household", "source_key", models.Index(fields=["source_key"], name="household_source_key")),
    ("person", "nik", models.Index(fields=["nik"], name="person_nik")),
    ("person", "merged_into_id", models.Index(condition=models.Q(("merged_into__isnull", False)),
                                              fields=["merged_into"], name="person_merged_into")),
]  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("intake", "0005_alter_importbatch_kind_alter_source_kind"),
        ("registry", "0007_import_speed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="family",
                    name="kk",
                    field=models.CharField(blank=True, help_text="Nomor KK ternormalisasi", max_length=16, null=True),
                ),
                migrations.AlterField(
                    model_name="family",
                    name="source_key",
                    field=models.CharField(blank=True, help_text="ID keluarga di sumber", max_length=64),
                ),
                migrations.AlterField(
                    model_name="household",
                    name="source_key",
                    field=models.CharField(blank=True, max_length=64),
                ),
                migrations.AlterField(
                    model_name="person",
                    name="merged_into",
                    field=models.ForeignKey(blank=True, db_index=False, null=True,
                                            on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                            to="registry.person"),  # fmt: skip
                ),
                migrations.AlterField(
                    model_name="person",
                    name="nik",
                    field=models.CharField(blank=True, help_text="NIK ternormalisasi", max_length=16, null=True),
                ),
                *(migrations.AddIndex(model_name=model, index=index) for model, _column, index in INDEXES),
            ],
            database_operations=[
                migrations.RunPython(index_instead_of_db_index("registry", INDEXES), migrations.RunPython.noop)
            ],
        ),
    ]
