"""A real demo instance, built by `tepat demo --no-serve` and served by a real server process, driven by chromium.

This runs exactly what a new user runs. It needs Debian's chromium at /usr/bin/chromium (never a downloaded
browser); `make test` installs it. Without it these tests skip, except under TEPAT_REQUIRE_BROWSER=1 (CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TEPAT = str(Path(sys.executable).with_name("tepat"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the demo is an embedded SQLite instance; its browser tests run in the SQLite pass")
    if not Path(CHROMIUM).exists():
        if os.environ.get("TEPAT_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    var = tmp_path_factory.mktemp("demo")
    env = {**os.environ, "TEPAT_VAR_DIR": str(var), "TEPAT_SQLITE": str(var / "demo.sqlite3")}
    build = subprocess.run(
        [TEPAT, "demo", "--no-serve", "--persons", "3000", "--seed", "7"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert "admin" in build.stdout and "tepat-demo" in build.stdout
    port = _free_port()
    # The server's and the worker's output go to files beside the demo database, to read when a page fails.
    server_log, worker_log = (var / "server.log").open("w"), (var / "worker.log").open("w")
    server = subprocess.Popen(
        [TEPAT, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, stdout=server_log, stderr=server_log
    )
    # Imports run in the background, as in `tepat demo`: one worker beside the server.
    worker = subprocess.Popen([TEPAT, "db_worker", "--interval", "0.3"], env=env, stdout=worker_log, stderr=worker_log)
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine starts Django slowly
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the demo server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(timeout=10)
        server_log.close()
        worker_log.close()


@pytest.fixture(scope="session")
def browser(demo_server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
