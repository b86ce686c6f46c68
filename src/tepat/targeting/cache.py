"""The region's family table, built once per state of the data and cut to each user's area.

Building the table from the registry costs ~3 s of CPU for a regency of 190,000 persons, and every dry run,
priority list, family-table export and scenario run needs it. The table depends on nothing but the data, the day
(ages) and the local method, so it is built once for the whole deployment region and kept under a *stamp* of the
data (``data_stamp``): a page then pays a handful of indexed look-ups and a cut of the table to the user's area.

The stamp changes whenever something the table reads may have changed. Families, persons, memberships, dwellings
and exclusion findings arrive and leave through import batches (committed, rolled back); later changes of registry
values are Change rows; deduplication merges and their undos are PersonMerge rows; local scores and PMT uploads add
WelfareAssessment rows with new ids. The newest id or time of each is the stamp, plus the newest family, member and
finding ids for rows written outside an import.

Why a cache in the process rather than Django's cache framework: the value is an Arrow table of tens of megabytes
that would cost about as much to pickle through a shared cache as to rebuild, and a deployment runs one or two web
processes and one worker. It is bounded: at most ``MAX_ENTRIES`` tables and ``TEPAT_TARGETING_CACHE_MB`` (default
256) megabytes; a table larger than that is used once and not kept. Stale entries are never served (the stamp is
part of the key) and are dropped as soon as a newer one is stored.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.db import connection
from django.db.models import Max

from tepat.targeting.table import Progress, RegistryFamilies, family_table_from_registry, local_method

MAX_ENTRIES = 2  # today's table and one more (another day or local method): a dry run never needs more


def data_stamp() -> tuple[Any, ...]:
    """Changes whenever anything the family table reads may have changed; a few indexed look-ups."""
    from tepat.intake.models import ImportBatch
    from tepat.linkage.models import PersonMerge
    from tepat.registry.models import Change, Exclusion, Family, Membership, Person
    from tepat.targeting.models import WelfareAssessment

    batches = ImportBatch.objects.aggregate(
        last=Max("id"), committed=Max("committed_at"), rolled_back=Max("rolled_back_at")
    )
    merges = PersonMerge.objects.aggregate(last=Max("id"), undone=Max("undone_at"))

    def last(model: Any) -> Any:
        return model.objects.aggregate(value=Max("id"))["value"]

    return (
        connection.settings_dict.get("NAME"),
        batches["last"],
        batches["committed"],
        batches["rolled_back"],
        merges["last"],
        merges["undone"],
        last(Change),
        last(Exclusion),
        last(Family),
        last(Person),
        last(Membership),
        last(WelfareAssessment),
    )


class _TableCache:
    """A few region tables keyed by (stamp, day, method), most recent last, within a byte budget."""

    def __init__(self) -> None:
        self.items: OrderedDict[tuple[Any, ...], RegistryFamilies] = OrderedDict()
        self.lock = threading.Lock()  # one build at a time: a second request waits and reuses the table
        self.builds = 0  # tables built since the process started (tests and the benchmark read it)

    @staticmethod
    def budget() -> int:
        return int(float(getattr(settings, "TEPAT_TARGETING_CACHE_MB", 256)) * 1024 * 1024)

    def get_or_build(self, key: tuple[Any, ...], build: Callable[[], RegistryFamilies]) -> RegistryFamilies:
        with self.lock:
            found = self.items.get(key)
            if found is not None:
                self.items.move_to_end(key)
                return found
            data = build()
            self.builds += 1
            stamp = key[0]
            for old in [k for k in self.items if k[0] != stamp]:  # the data moved on: older tables are dead weight
                del self.items[old]
            size = _size(data)
            if size <= self.budget():
                self.items[key] = data
                while len(self.items) > MAX_ENTRIES or sum(_size(v) for v in self.items.values()) > self.budget():
                    self.items.popitem(last=False)
            return data

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def _size(data: RegistryFamilies) -> int:
    return int(data.table.nbytes + data.ids.nbytes)


CACHE = _TableCache()


def cached_family_table(
    scope: str | None = None, *, on: date | None = None, method: str | None = None, progress: Progress | None = None
) -> RegistryFamilies:
    """The family table of the active families inside ``scope`` (an area code; default the whole region).

    The same rows and values as ``family_table_from_registry`` over the same families: the region's table, built
    once per data stamp, cut to the area. ``progress`` is called only when the table is really built.
    """
    day = on or date.today()
    chosen = method or local_method()
    key = (data_stamp(), day.isoformat(), chosen)
    region = CACHE.get_or_build(key, lambda: family_table_from_registry(on=day, method=chosen, progress=progress))
    return cut_to_area(region, settings.TEPAT_REGION if scope is None else scope)


def cut_to_area(data: RegistryFamilies, scope: str) -> RegistryFamilies:
    """The rows of families whose village lies inside ``scope`` (codes are prefixes of the codes inside them)."""
    if scope == settings.TEPAT_REGION or not len(data):
        return data
    if not scope:  # no area is no families, never all of them
        return RegistryFamilies(ids=data.ids[:0], table=data.table.slice(0, 0))
    villages = data.table.column("kode_desa").combine_chunks()
    if pa.types.is_dictionary(villages.type):
        names = villages.dictionary.to_pylist()
        inside_name = np.array([bool(v) and (v == scope or v.startswith(scope + ".")) for v in names] + [False])
        indices = pc.fill_null(villages.indices, len(names)).to_numpy(zero_copy_only=False).astype(np.int64)
        inside = inside_name[indices]
    else:
        values = villages.to_pylist()
        inside = np.array([bool(v) and (v == scope or v.startswith(scope + ".")) for v in values], dtype=bool)
    return RegistryFamilies(ids=data.ids[inside], table=data.table.filter(pa.array(inside)))
