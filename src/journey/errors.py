"""The one exception type that reaches users as a clear message instead of a traceback."""


class UserError(Exception):
    """A mistake in the user's input or environment; the CLI prints it and exits non-zero."""
