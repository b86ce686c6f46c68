"""The `tepat` command: Django's management commands with Tepat's own (areas, nik, synth, import, demo, users).

User errors end with one line on stderr and exit code 2, never a traceback (DESIGN: command contracts).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tepat.config.settings")
    if args[:1] == ["demo"] and not os.environ.get("DATABASE_URL"):
        # The demo is its own embedded instance; it never touches the deployment's database file.
        var = Path(os.environ.get("TEPAT_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))
        os.environ.setdefault("TEPAT_SQLITE", str(var / "demo.sqlite3"))
    if not args:
        args = ["help"]
    if args[0] in {"db_worker", "import", "demo"}:  # large work: the worker's tasks, an import, the demo's build
        from tepat.memory import keep_freed_memory

        keep_freed_memory()
    from django.core.management import execute_from_command_line
    from django.db.utils import InterfaceError, OperationalError

    from tepat.errors import UserError

    try:
        execute_from_command_line(["tepat", *args])
    except UserError as exc:
        _fail(str(exc))
    except (OperationalError, InterfaceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        _fail(f"database unavailable or not set up ({first}); check DATABASE_URL and run `tepat migrate`")
    except KeyboardInterrupt:
        _fail("interrupted")


def _fail(message: str) -> None:
    sys.stderr.write(f"tepat: {message}\n")
    sys.exit(2)


if __name__ == "__main__":
    main()
