"""Errors a user can act on.

Every failure the user can cause or fix is a ``StudioError``: one line saying what was wrong and
what to do. The CLI prints it and exits 2; the GUI shows it in a dialog. Anything else is a bug
and is logged with its traceback, never shown raw.
"""

from __future__ import annotations


class StudioError(Exception):
    """A problem the user can fix. ``str()`` is the one-line message shown to them."""

    exit_code = 2

    def __init__(self, what: str, fix: str = "") -> None:
        self.what = what.rstrip(". ")
        self.fix = fix.rstrip(". ")
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.what}. {self.fix}." if self.fix else f"{self.what}."


class BadInput(StudioError):
    """A file, folder or value the user gave is wrong."""


class OutputError(StudioError):
    """The output location cannot be written, or holds something we must not replace."""


class JobFailed(StudioError):
    """A background job crashed, was killed or raised an unexpected error."""

    exit_code = 1


class JobCancelled(StudioError):
    """The user cancelled a background job."""

    exit_code = 130
