"""A worker killed with SIGKILL in the middle of a commit: nothing of the batch is in the registry, and the same
batch commits cleanly afterwards. Runs in separate processes on a real SQLite file, as a deployment would."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# SQLite only: it is the case where the killed process held the write lock on the file; PostgreSQL aborts a dead
# client's transaction on the server, and the PostgreSQL pass would only repeat this on SQLite.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="SQLite file semantics; see module docstring"),
]

SETUP = textwrap.dedent("""
    import django; django.setup()
    from pathlib import Path
    from django.conf import settings
    from django.core.management import call_command
    from tepat.areas.services import areas_load
    from tepat.intake.services import import_stage, import_validate
    call_command("migrate", verbosity=0)
    areas_load(data_dir=Path(settings.DATA_DIR), boundaries=False, within="64.74")
    batch = import_stage(actor=None, path=Path(PATH), kind="person", source_name="uji")
    import_validate(batch=batch)
    print(batch.pk, batch.counts["accepted"])
""")
COMMIT = textwrap.dedent("""
    import sys, time, django; django.setup()
    from tepat.intake.models import ImportBatch
    from tepat.intake.services import import_commit
    def progress(stage, done, total):
        if stage == "commit" and done:
            print("COMMITTING", done, flush=True)
            time.sleep(SLEEP)  # the test kills us here, inside the open transaction
    batch = import_commit(actor=None, batch=ImportBatch.objects.get(pk=PK), valid_only=True, progress=progress)
    print("DONE", batch.status, batch.counts["persons_new"], flush=True)
""")


def _person_list(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["nik", "no_kk", "nama", "jenis_kelamin", "tanggal_lahir", "hubungan_keluarga", "kode_desa"])
        for i in range(rows):
            family = i // 4
            out.writerow([f"647403{(i % 28) + 1:02d}0190{i % 10000:04d}"[:16], f"64740312031{family:05d}",
                          f"Warga {i}", "L", f"1990-01-{(i % 28) + 1:02d}", "Anak" if i % 4 else "Kepala Keluarga",
                          "64.74.03.1002"])  # fmt: skip


def _run(code: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)  # type: ignore[call-overload]  # fmt: skip


def test_sigkill_in_the_middle_of_a_commit_leaves_nothing_and_the_batch_commits_again(tmp_path: Path) -> None:
    database = tmp_path / "tepat.sqlite3"
    env = {**os.environ, "TEPAT_SQLITE": str(database), "TEPAT_VAR_DIR": str(tmp_path / "var"),
           "DJANGO_SETTINGS_MODULE": "tepat.config.settings"}  # fmt: skip
    env.pop("DATABASE_URL", None)
    people = tmp_path / "orang.csv"
    _person_list(people, 25_000)
    setup = _run(SETUP.replace("PATH", repr(str(people))), env)
    out, err = setup.communicate(timeout=600)
    assert setup.returncode == 0, err[-2000:]
    pk, accepted = (int(x) for x in out.split()[-2:])
    assert accepted == 25_000

    worker = _run(COMMIT.replace("PK", str(pk)).replace("SLEEP", "60"), env)
    assert worker.stdout is not None
    line = worker.stdout.readline()  # blocks until the first 10,000 persons are written inside the transaction
    assert line.startswith("COMMITTING"), worker.stderr.read() if worker.stderr else line
    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=30)
    assert worker.returncode == -signal.SIGKILL

    with sqlite3.connect(database) as db:  # what any other process sees now
        assert db.execute("SELECT count(*) FROM registry_person").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM registry_membership").fetchone()[0] == 0
        assert db.execute("SELECT status FROM intake_importbatch WHERE id = ?", [pk]).fetchone()[0] == "validated"
        assert db.execute("SELECT count(*) FROM registry_sourcerecord WHERE batch_id = ?", [pk]).fetchone()[0] == 25_000

    again = _run(COMMIT.replace("PK", str(pk)).replace("SLEEP", "0"), env)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
    assert out.strip().splitlines()[-1] == "DONE committed 25000"
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM registry_person").fetchone()[0] == 25_000
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
