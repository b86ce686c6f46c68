from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tepat.accounts.models import AuditAction
from tepat.accounts.services import audit
from tepat.areas.models import Area, Boundary, Level
from tepat.areas.services import areas_load
from tepat.errors import UserError


class Command(BaseCommand):
    help = "Kemendagri regions: `tepat areas load` loads the code list and boundaries; `tepat areas stats` counts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "stats"])
        parser.add_argument("--no-boundaries", action="store_true", help="load only the code list")
        parser.add_argument("--boundaries-within", default="", help="load boundaries only inside this area code")
        parser.add_argument("--data-dir", default=None, help="folder with reference/ and boundaries/")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            data_dir = Path(options["data_dir"] or settings.DATA_DIR)
            within = options["boundaries_within"]
            if within and not re.fullmatch(r"\d{2}(\.\d{2}){0,2}(\.\d{4})?", within):
                raise UserError(f"not a Kemendagri area code: {within!r} (expected e.g. 64.74)")
            result = areas_load(data_dir=data_dir, boundaries=not options["no_boundaries"], within=within)
            audit(None, AuditAction.AREAS_LOAD, detail={**result.counts, "boundaries": result.boundaries})
            for level, count in result.counts.items():
                self.stdout.write(f"{level}: {count}")
            self.stdout.write(f"boundaries: {result.boundaries}")
        self._stats()

    def _stats(self) -> None:
        for level in Level:
            self.stdout.write(f"{level.name.lower()} in database: {Area.objects.filter(level=level).count()}")
        self.stdout.write(f"boundaries in database: {Boundary.objects.count()}")
        region = Area.objects.filter(code=settings.TEPAT_REGION).first()
        if region is None:
            raise UserError(f"TEPAT_REGION={settings.TEPAT_REGION} is not a known area code; run `tepat areas load`")
        self.stdout.write(f"deployment region: {region.code} {region.name}")
