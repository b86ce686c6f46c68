"""Identifiers have one plain index each (no LIKE twin on PostgreSQL), and the migration step can run again."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from tepat.registry.schema import index_instead_of_db_index

pytestmark = pytest.mark.django_db

IDENTIFIERS = [
    ("registry_person", "nik", "person_nik"),
    ("registry_family", "kk", "family_kk"),
    ("registry_family", "source_key", "family_source_key"),
    ("registry_household", "source_key", "household_source_key"),
    ("programs_benefit", "nik", "benefit_nik"),
]


def _indexes_on(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return sorted(name for name, info in found.items()
                  if info["index"] and not info["primary_key"] and info["columns"] == [column])  # fmt: skip


@pytest.mark.parametrize(("table", "column", "name"), IDENTIFIERS)
def test_each_identifier_has_one_plain_index(table: str, column: str, name: str) -> None:
    assert _indexes_on(table, column) == [name]


def test_merged_into_is_indexed_only_where_set_and_the_step_runs_again() -> None:
    assert _indexes_on("registry_person", "merged_into_id") == ["person_merged_into"]
    from django.db import models

    step = index_instead_of_db_index("registry", [("person", "nik", models.Index(fields=["nik"], name="person_nik"))])
    editor = connection.schema_editor(collect_sql=True)  # statements collected, not run
    step(apps, editor)
    assert editor.collected_sql == []  # the index exists: nothing dropped, nothing created
    editor = connection.schema_editor(collect_sql=True)
    other = models.Index(fields=["nik"], name="person_nik_again")
    index_instead_of_db_index("registry", [("person", "nik", other)])(apps, editor)
    # only the indexes Django named for db_index go: an index someone added on the column stays
    assert [sql.split()[:2] for sql in editor.collected_sql] == [["CREATE", "INDEX"]]


JSON_AS_TEXT = [
    ("registry_person", "lineage"),
    ("registry_person", "nik_problems"),
    ("registry_family", "kk_problems"),
    ("registry_membership", "lineage"),
    ("registry_sourcerecord", "values"),
]


@pytest.mark.parametrize(("table", "column"), JSON_AS_TEXT)
def test_json_read_whole_is_stored_as_text(table: str, column: str) -> None:
    """Never jsonb: the server would parse every value of a million-row import for queries nobody runs."""
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, table)
    (kind,) = [connection.introspection.get_field_type(c.type_code, c) for c in described if c.name == column]
    assert kind == "TextField"


def test_json_text_gives_back_what_was_stored_as_json_text_or_as_values() -> None:
    from tepat.registry.models import Person
    from tepat.registry.stream import whole_row

    person = Person.objects.create(name="SITI", lineage={"*": 3, "name": 9}, nik_problems=["length"])
    person.refresh_from_db()
    assert (person.lineage, person.nik_problems) == ({"*": 3, "name": 9}, ["length"])
    assert person.source_record_id("name") == 9
    with connection.cursor() as cursor:  # the bulk writers hand the column JSON text (whole_row) themselves
        cursor.execute("UPDATE registry_person SET lineage = %s WHERE id = %s", [whole_row(12), person.pk])
    person.refresh_from_db()
    assert person.lineage == {"*": 12} and person.source_record_id("name") == 12
