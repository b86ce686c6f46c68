"""Bulk inserts on the writer thread belong to the caller's transaction: what they write is there after sync, and a
statement that fails there fails the caller, with nothing of it left."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
from django.db import IntegrityError, transaction

from tepat.areas.models import Area, Level
from tepat.registry import bulk
from tepat.registry.bulk import BulkTable
from tepat.registry.models import Address

pytestmark = pytest.mark.django_db


def _village() -> str:
    return str(Area.objects.filter(level=Level.VILLAGE).values_list("code", flat=True).first())


def test_rows_written_on_the_writer_thread_are_in_the_callers_transaction() -> None:
    village = _village()
    table = BulkTable(Address)
    shape = table.shape(("id", "village_id", "rt"), {"street": "Jl. Mawar"})
    with transaction.atomic(), bulk.background_writes():
        first = table.reserve(3)
        table.insert_tuples(shape, [(first + i, village, f"00{i + 1}") for i in range(3)])
        table.finish()
        bulk.sync()
        written = list(Address.objects.filter(pk__gte=first).order_by("pk").values_list("rt", "street", "lon"))
    assert written == [("001", "Jl. Mawar", None), ("002", "Jl. Mawar", None), ("003", "Jl. Mawar", None)]


def test_a_statement_that_fails_on_the_writer_thread_fails_the_caller_and_leaves_nothing() -> None:
    village = _village()
    table = BulkTable(Address)
    shape = table.shape(("id", "village_id"))
    first = table.reserve(2)
    failed = (IntegrityError, sqlite3.IntegrityError, psycopg.IntegrityError)
    with pytest.raises(failed), transaction.atomic(), bulk.background_writes():
        table.insert_tuples(shape, [(first, village), (first + 1, village)])
        table.insert_tuples(shape, [(first, village)])  # the same id again
        bulk.sync()
    assert not Address.objects.filter(pk__gte=first).exists()


def test_a_constant_with_a_quote_is_written_as_it_is() -> None:
    village = _village()
    table = BulkTable(Address)
    shape = table.shape(("id", "village_id"), {"street": "Jl. Ma'ruf Amin; DROP TABLE x --"})
    first = table.reserve(1)
    table.insert_tuples(shape, [(first, village)])
    table.finish()
    assert Address.objects.get(pk=first).street == "Jl. Ma'ruf Amin; DROP TABLE x --"
