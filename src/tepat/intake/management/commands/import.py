from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.intake.kinds import KINDS
from tepat.intake.messages import issue_message
from tepat.intake.services import import_file
from tepat.progress import cli_progress


class Command(BaseCommand):
    help = (
        "Import a list: `tepat import FILE --source KIND [--source-name NAME] [--dry-run] [--report report.json]`. "
        "Valid rows are committed; rejected rows are listed in the report. Exit 0 when the file was read, "
        "2 when the file itself is unusable."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--source", required=True, choices=list(KINDS))
        parser.add_argument(
            "--source-name", default=None, help="who sent the list (column mappings are remembered per source)"
        )
        parser.add_argument("--program", default=None, help="recipient lists: the program, when no column names it")
        parser.add_argument(
            "--period",
            default="",
            help="recipient lists: the distribution period (2026, 2026-Q3, 2026-09, 'Triwulan III 2026'), for rows "
            "without one and as the year of rows that give only a quarter, phase or month",
        )
        parser.add_argument("--sheet", default=None, help="the workbook sheet to read (default: the best list)")
        parser.add_argument(
            "--dry-run", action="store_true", help="validate and preview only; write nothing to the registry"
        )
        parser.add_argument("--report", default=None, help="write the validation report as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        kind = options["source"]
        path = Path(options["file"])
        source_name = options["source_name"] or {
            "dtsen": "DTSEN",
            "person": "Daftar orang",
            "death": "Dukcapil (kematian)",
            "exclusion": "Daftar pengecualian",
            "program": options["program"] or "Daftar penerima",
        }.get(kind, kind)
        with cli_progress(enabled=sys.stderr.isatty()) as progress:
            outcome = import_file(actor=None, path=path, kind=kind, source_name=source_name,
                                  commit=not options["dry_run"], program=options["program"] or "",
                                  progress=progress, sheet=options["sheet"], period=options["period"])  # fmt: skip
        batch = outcome.batch
        issues = outcome.issues()
        report = {
            "file": batch.file_name,
            "batch": batch.pk,
            "status": batch.status,
            "unchanged_file": outcome.unchanged,
            "sheet": batch.sheet,
            "alike_sheets_not_read": batch.alike_sheets,
            "program": batch.program_code,
            "period": batch.period_choice,
            "totals": {k: v for k, v in batch.counts.items()},
            "preview": {k: v for k, v in batch.preview.items() if k != "examples"},
            "rejected": [
                {"row": i.row_number, "column": i.header or i.column, "field": i.column, "code": i.code,
                 "message": issue_message(i.code), "value": i.value}
                for i in issues if i.severity == "error"
            ],
            "warnings": [
                {"row": i.row_number, "column": i.header or i.column, "field": i.column, "code": i.code,
                 "message": issue_message(i.code), "value": i.value}
                for i in issues if i.severity == "warning"
            ],
        }  # fmt: skip
        if options["report"]:
            Path(options["report"]).write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
        if outcome.unchanged:
            self.stdout.write(f"unchanged: this file was already imported (batch {batch.counts.get('same_as_batch')})")
            return
        self.stdout.write(f"batch {batch.pk}: {batch.get_status_display()}")
        if batch.alike_sheets:
            self.stderr.write(
                f"warning: only sheet “{batch.sheet}” was read; these sheets have the same columns and were not: "
                f"{', '.join(batch.alike_sheets)} (import each with --sheet NAME)"
            )
        for key, value in batch.counts.items():
            self.stdout.write(f"{key}: {value}")
