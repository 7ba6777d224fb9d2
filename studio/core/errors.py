"""Errors a user can act on.

Every failure the user can cause or fix is a ``StudioError``: one line saying what was wrong and
what to do, given as ``what``/``fix`` text or as a ``Message`` (studio/core/messages). The CLI prints it and exits 2; the GUI shows it in a dialog. Anything else is a bug
and is logged with its traceback, never shown raw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.core.messages import Message


class StudioError(Exception):
    """A problem the user can fix. ``str()`` is the one-line message shown to them."""

    exit_code = 2

    def __init__(self, what: str = "", fix: str = "", *, msg: Message | None = None) -> None:
        # ``msg`` is the same error as data (id, fields, fix) for the GUI to word its own way;
        # ``what``/``fix`` stay for the errors not converted yet.
        self.msg = msg
        self.what = (msg.english() if msg is not None else what).rstrip(". ")
        self.fix = "" if msg is not None else fix.rstrip(". ")
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
