"""JSON kept as text: for values the application always reads and writes whole and never queries inside.

A row's lineage (``{"*": 17}``), its identifier's problems and a file row kept raw are read back whole by Python
and never filtered on in SQL. As ``JSONField`` they were jsonb on PostgreSQL, which parses every value it is given
and stores its own encoding: a million-row first import made the server parse about four million small documents
(measured 2026-11-23: 0.9 s per million lineages against 0.26 s for the same numbers as integers, and 3.6 s per
million raw rows against 1.9 s as text), for queries nobody runs. As text the server stores the bytes it gets, and
the bulk writers' binary COPY sends a str through psycopg's C dumper instead of a Python one.

On SQLite ``JSONField`` is text already; this field only drops its ``JSON_VALID`` check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from django.db import models


class JSONText(models.TextField):
    """A JSON value (dict, list, number…) stored as its compact text; None is SQL NULL.

    Bulk writers may hand the database the JSON text themselves (``registry.stream.whole_row``): what is read back
    is the decoded value either way.
    """

    description = "JSON stored as text"
    if TYPE_CHECKING:  # django-stubs: what the attribute holds is the decoded value, not text
        _pyi_private_set_type: Any
        _pyi_private_get_type: Any

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return None if value is None else orjson.loads(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str | bytes):  # from a serializer or a form: the JSON text
            try:
                return orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return orjson.dumps(value, default=str).decode()

    def value_to_string(self, obj: Any) -> Any:  # serializers: the value itself, as JSONField gives it
        return self.value_from_object(obj)
