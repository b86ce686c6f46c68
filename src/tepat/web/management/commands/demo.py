from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection
from rich.console import Console
from rich.table import Table

from tepat.config.warmup import warm_up_in_background
from tepat.errors import UserError
from tepat.progress import cli_progress
from tepat.web.demo import DEMO_PASSWORD, demo_build


class Command(BaseCommand):
    help = "Build a fresh embedded demo instance (real areas, synthetic registry, demo users) and serve it."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-serve", action="store_true", help="only build the demo instance")
        parser.add_argument("--persons", type=int, default=190_000, help="registry size (persons)")
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "sqlite":
            raise UserError("the demo builds its own SQLite instance; unset DATABASE_URL to run it")
        if options["persons"] < 100:
            raise UserError("--persons must be at least 100")
        path = Path(settings.DATABASES["default"]["NAME"])
        connection.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        started = time.monotonic()
        console = Console(stderr=True)
        console.print(f"[bold]Tepat demo[/bold]: membangun instans baru di {path}")
        with cli_progress(enabled=True) as progress:
            accounts, result = demo_build(persons=options["persons"], seed=options["seed"], progress=progress)
        counts = result.counts
        console.print(
            f"Registri: {counts.get('persons_new', 0):,} orang, {counts.get('families_new', 0):,} keluarga, "
            f"{counts.get('flags', 0):,} temuan data; selesai dalam {time.monotonic() - started:.0f} detik."
        )
        table = Table(title=f"Akun demo (kata sandi untuk semua: {DEMO_PASSWORD})")
        for column in ("pengguna", "peran", "wilayah / catatan"):
            table.add_column(column)
        for account in accounts:
            table.add_row(account.username, str(account.role.label), account.note)
        Console().print(table)
        if options["no_serve"]:
            return
        url = f"http://127.0.0.1:{options['port']}/"
        Console().print(f"Buka {url} (masuk sebagai [bold]admin[/bold] / {DEMO_PASSWORD}); Ctrl+C untuk berhenti.")
        sys.stdout.flush()
        # Imports run in the background: one worker process beside the web server, stopped with it.
        worker = subprocess.Popen([sys.executable, "-m", "tepat.cli", "db_worker", "--interval", "0.5"])
        warm_up_in_background()
        try:
            call_command("runserver", f"127.0.0.1:{options['port']}", use_reloader=False, use_threading=True)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
