"""Indexes every import kept and nothing used: ``created_batch`` on persons, memberships, families and households
(only a rollback looks rows up by batch), memberships by (family, position) (the (family, person) constraint leads
with the family), and the LIKE twin of the address's village code. About two seconds of a million-row first load's
index rebuild on PostgreSQL, and index inserts on every later import."""

import django.db.models.deletion
from django.db import migrations, models

from tepat.registry.schema import index_instead_of_db_index

BATCH = models.ForeignKey(
    blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT,
    related_name="+", to="intake.importbatch",
)  # fmt: skip
TARGETS: list[tuple[str, str, models.Index | None]] = [
    *((model, "created_batch_id", None) for model in ("family", "household", "membership", "person")),
    ("address", "village_id", models.Index(fields=["village"], name="address_village")),
]


class Migration(migrations.Migration):
    dependencies = [
        ("areas", "0001_initial"),
        ("intake", "0005_alter_importbatch_kind_alter_source_kind"),
        ("registry", "0009_village_without_db_constraint"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="membership", name="registry_me_family__32cbba_idx"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *(migrations.AlterField(model_name=model, name="created_batch", field=BATCH.clone())
                  for model in ("family", "household", "membership", "person")),  # fmt: skip
                migrations.AlterField(
                    model_name="address",
                    name="village",
                    field=models.ForeignKey(db_constraint=False, db_index=False,
                                            on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                            to="areas.area"),  # fmt: skip
                ),
                migrations.AddIndex(
                    model_name="address", index=models.Index(fields=["village"], name="address_village")
                ),
            ],
            database_operations=[
                migrations.RunPython(index_instead_of_db_index("registry", TARGETS), migrations.RunPython.noop)
            ],
        ),
    ]
