from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.errors import UserError
from tepat.intake.models import SourceKind
from tepat.intake.services import import_dtsen_extract
from tepat.progress import cli_progress

KINDS = ["person", "dtsen", "program", "proposal", "death", "exclusion", "bps", "targets"]
SUPPORTED = {"dtsen"}


class Command(BaseCommand):
    help = "Import a list: `tepat import FILE --source KIND [--report report.json]`."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", required=True, choices=KINDS)
        parser.add_argument("--source-name", default=None, help="who sent the list (remembered per source)")
        parser.add_argument("--program", default=None)
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--report", default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["source"]
        if kind not in SUPPORTED:
            raise UserError(f"import of --source {kind} is not available yet in this version (available: dtsen)")
        if options["dry_run"]:
            raise UserError("--dry-run is not available yet in this version")
        path = Path(options["file"])
        with cli_progress(enabled=sys.stderr.isatty()) as progress:
            result = import_dtsen_extract(
                actor=None,
                path=path,
                source_name=options["source_name"] or "DTSEN",
                kind=SourceKind.DTSEN,
                progress=progress,
            )
        report = {
            "file": path.name,
            "batch": result.batch.pk,
            "unchanged_file": result.unchanged_file,
            "totals": result.counts,
            "rejected": [{"row": p.row, "column": p.column, "code": p.code, "value": p.value} for p in result.rejected],
        }
        if options["report"]:
            Path(options["report"]).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        if result.unchanged_file:
            self.stdout.write(f"unchanged: this file was already imported as batch {result.batch.pk}")
        for key, value in result.counts.items():
            self.stdout.write(f"{key}: {value}")
