from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tepat.engine.synth import SynthConfig, SynthError, generate
from tepat.errors import UserError
from tepat.progress import cli_progress


class Command(BaseCommand):
    help = (
        "Generate a synthetic registry for a real region plus the lists a regency receives (agency and partner "
        "recipient lists, deaths, exclusions, moves) with realistic defects and a ground truth."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", default=settings.TEPAT_REGION, help="Kemendagri code, e.g. 64.74")
        parser.add_argument("--persons", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--out", required=True, help="output folder")

    def handle(self, *args: Any, **options: Any) -> None:
        config = SynthConfig(region=options["region"], persons=options["persons"], seed=options["seed"])
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create output folder {out}: {exc.strerror}") from None
        with cli_progress(enabled=sys.stderr.isatty()) as progress:
            try:
                manifest = synthesise(config, out, lambda done, total: progress("synth", done, total))
            except SynthError as exc:
                raise UserError(str(exc)) from None
        counts = manifest.get("counts", {})
        for name, count in sorted(counts.items()):
            self.stdout.write(f"{name}: {count}")
        self.stdout.write(f"written to {out}")


def synthesise(config: SynthConfig, out: Path, progress: Any = None) -> dict[str, Any]:
    return generate(config, reference_dir=Path(settings.DATA_DIR) / "reference", out_dir=out, progress=progress)
