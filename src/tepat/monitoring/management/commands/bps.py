from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db.models import Count

from tepat.monitoring.models import SeriesValue
from tepat.monitoring.services import ATTRIBUTION, bps_series_load


class Command(BaseCommand):
    help = (
        "BPS poverty series shipped with Tepat: `tepat bps load` loads P0 and the number of poor for every province "
        "and regency/city (2004–2025; idempotent); `tepat bps stats` counts what is in the database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "stats"])
        parser.add_argument("--data-dir", default=None, help="folder with bps/ (default: TEPAT_DATA_DIR)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            result = bps_series_load(data_dir=Path(options["data_dir"] or settings.DATA_DIR))
            self.stdout.write(f"rows read: {result.rows}")
            self.stdout.write(f"values: {result.values}")
            for name, count in result.counts.as_dict().items():
                self.stdout.write(f"{name}: {count}")
            if result.skipped_areas:
                shown = ", ".join(result.skipped_areas[:10]) + (" …" if len(result.skipped_areas) > 10 else "")
                self.stdout.write(f"skipped (area not loaded): {len(result.skipped_areas)} ({shown})")
        for row in SeriesValue.objects.values("indicator_id").annotate(n=Count("id")).order_by("indicator_id"):
            self.stdout.write(f"{row['indicator_id']} in database: {row['n']}")
        self.stdout.write(ATTRIBUTION)
