from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tepat.accounts.models import Organisation, OrganisationKind, User
from tepat.errors import UserError
from tepat.programs.catalogue import Catalogue, load_catalogue
from tepat.programs.models import ActionPlan, Program, Strategy
from tepat.programs.services import plan_create, plan_rows_load, programs_fold_aliases


class Command(BaseCommand):
    help = (
        "Programs: `tepat programs load [--force]` loads the strategy tags and national programs of data/programs "
        "(only fills what the region left empty unless --force); `tepat programs fold` moves ledger rows of "
        'programs named by an alias ("Sembako (BPNT)") into the program they mean; `tepat programs rat FILE '
        "--organisation NAME --year YYYY --user USERNAME` loads an agency's RAT sub-activities from CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["load", "fold", "rat"])
        parser.add_argument("file", nargs="?", help="RAT sheet (CSV) for `rat`")
        parser.add_argument("--force", action="store_true", help="load: overwrite the region's changes")
        parser.add_argument("--data-dir", default=None, help="folder with programs/ (default: TEPAT_DATA_DIR)")
        parser.add_argument("--organisation", default="", help="rat: the agency (name or short name)")
        parser.add_argument("--year", type=int, default=0, help="rat: the plan's year")
        parser.add_argument("--user", default="", help="rat: the user the plan is recorded by")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "load":
            folder = Path(options["data_dir"] or settings.DATA_DIR)
            if not (folder / "programs" / "national.json").exists():
                raise UserError(f"no programs/national.json under {folder}")
            result = load_catalogue(
                Catalogue.read(folder), strategy_model=Strategy, program_model=Program,
                organisation_model=Organisation, force=options["force"],
            )  # fmt: skip
            self.stdout.write(f"strategies: {result.strategies}")
            for name in ("created", "filled", "unchanged"):
                self.stdout.write(f"programs {name}: {', '.join(getattr(result, name)) or '-'}")
        elif action == "fold":
            folded = programs_fold_aliases(actor=None)
            self.stdout.write(f"programs folded: {len(folded.programs)}; ledger rows moved: {folded.benefits}")
            for line in folded.programs:
                self.stdout.write(f"  {line}")
        else:
            self._rat(options)

    def _rat(self, options: dict[str, Any]) -> None:
        if not options["file"]:
            raise UserError("rat needs a CSV file")
        path = Path(options["file"])
        if not path.is_file():
            raise UserError(f"file not found: {path}")
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise UserError("rat needs --user with an existing username")
        name = options["organisation"].strip()
        organisation = (
            Organisation.objects.filter(name__iexact=name).first()
            or Organisation.objects.filter(short_name__iexact=name).first()
        )
        if organisation is None:
            if not name:
                raise UserError("rat needs --organisation")
            organisation = Organisation.objects.create(name=name, kind=OrganisationKind.AGENCY)
        if not 2000 <= options["year"] <= 2100:
            raise UserError("rat needs --year, e.g. --year 2026")
        plan = ActionPlan.objects.filter(organisation=organisation, year=options["year"]).first()
        if plan is None:
            plan = plan_create(actor=user, organisation=organisation, year=options["year"])
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError:
            text = path.read_text(encoding="cp1252")
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t") if text.strip() else csv.excel
        rows = [{(k or "").strip().lower(): v or "" for k, v in row.items()}
                for row in csv.DictReader(text.splitlines(), dialect=dialect)]  # fmt: skip
        loaded = plan_rows_load(actor=user, plan=plan, rows=rows)
        self.stdout.write(f"plan: RAT {plan.year} {organisation} (#{plan.pk})")
        self.stdout.write(f"activities new: {loaded.activities}; sub-activities new: {loaded.subactivities}")
        for problem in loaded.problems:
            self.stdout.write(f"  {problem}")
