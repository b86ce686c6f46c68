from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tepat.areas.selectors import region_codes
from tepat.engine.identity import nik_check_stream


class Command(BaseCommand):
    help = (
        "`tepat nik check`: reads NIKs (one per line, or `NIK,sex,birth_date` CSV) on stdin and writes one JSON "
        "object per line: nik, valid, reasons, province, regency, district, birth_date, sex."
    )

    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["check"])

    def handle(self, *args: Any, **options: Any) -> None:
        regions = region_codes()  # the shipped reference files: works before any database exists
        out = self.stdout
        for result in nik_check_stream(sys.stdin, regions=regions):
            out.write(json.dumps(result, ensure_ascii=False))
