"""Progress bars for long CLI work (rich), fed by the (stage, done, total) callbacks services accept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext_lazy as _
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

STAGE_LABELS = {
    "parse": _("membaca dan memeriksa baris"),
    "commit": _("menyimpan ke registri"),
    "records": _("menyimpan baris sumber"),
    "persons": _("menyimpan orang"),
    "synth": _("membuat data sintetis"),
}


def stage_label(stage: str) -> str:
    return str(STAGE_LABELS.get(stage, stage))


@contextmanager
def cli_progress(*, enabled: bool = True) -> Iterator[Any]:
    """Yields a callback(stage, done, total); one bar per stage."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    with Progress(
        TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False
    ) as progress:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage_label(stage), total=total)
            progress.update(tasks[stage], completed=done, total=total)

        yield update
