"""The base of every error that is the user's input, not a bug: the CLI prints it in one line and exits 2."""


class UserError(Exception):
    """Bad input or an unusable environment, explained in one line; carries a stable ``code`` for machines."""

    code = "error"
