"""The one exception of the generator, kept apart so every module can raise it without import cycles."""

from __future__ import annotations


class SynthError(ValueError):
    """Bad input to the generator (unknown region, region without villages, persons < 1...).

    The message is one English line: the CLI prints it as is and exits 2.
    """
