"""Schema steps shared by migrations that cannot be said with Django's operations alone."""

from __future__ import annotations

from typing import Any

from django.db import models


def index_instead_of_db_index(app_label: str, targets: list[tuple[str, str, models.Index | None]]) -> Any:
    """A RunPython step: for each (model, column, index), drop the indexes Django made for ``db_index`` on that
    column (its plain one and, on PostgreSQL, its LIKE twin: their generated names, nothing else) and create
    ``index`` unless it exists (None: the column is no longer indexed).

    Said as AlterField + AddIndex, Django would rebuild each table on SQLite (a copy of every row) only to rename an
    index there; this touches the indexes alone, on both databases, and can run again.
    """

    def run(apps: Any, schema_editor: Any) -> None:
        connection = schema_editor.connection
        for model_name, column, index in targets:
            model = apps.get_model(app_label, model_name)
            with connection.cursor() as cursor:
                found = connection.introspection.get_constraints(cursor, model._meta.db_table)
            table = model._meta.db_table
            generated = {schema_editor._create_index_name(table, [column], suffix=suffix) for suffix in ("", "_like")}
            for name in sorted(generated & found.keys() - {index.name if index else ""}):
                schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")
            if index is not None and index.name not in found:
                schema_editor.add_index(model, index)

    return run
