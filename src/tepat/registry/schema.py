"""Schema steps shared by migrations that cannot be said with Django's operations alone."""

from __future__ import annotations

from typing import Any

from django.db import models


def index_instead_of_db_index(app_label: str, targets: list[tuple[str, str, models.Index]]) -> Any:
    """A RunPython step: for each (model, column, index), drop the plain indexes on that one column (db_index's,
    and on PostgreSQL its LIKE twin) and create ``index`` unless it exists.

    Said as AlterField + AddIndex, Django would rebuild each table on SQLite (a copy of every row) only to rename an
    index there; this touches the indexes alone, on both databases, and can run again.
    """

    def run(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        for model_name, column, index in targets:
            model = apps.get_model(app_label, model_name)
            with connection.cursor() as cursor:
                found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for name, info in found.items():
                plain = info["index"] and not info["unique"] and not info["primary_key"] and not info["foreign_key"]
                if plain and info["columns"] == [column] and name != index.name:
                    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")
            if index.name not in found:
                schema_editor.add_index(model, index)

    return run
