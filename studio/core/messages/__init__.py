"""Messages as data: a stable id, the fields that fill it, and the fix as data.

pydantic-core's errors carry a type id, a ``ctx`` dict and a template per id; ruff's diagnostics a
rule code and a fix object. Core's user-facing results and errors do the same, so each face
renders them in its own words: the CLI and the logs in English naming flags (``english()``), the
GUI naming its own controls, in the user's language (studio/ui/messages.py). Callers branch on
``id``, never on the text.

A template is ``str.format`` text over ``fields``; ``{fix}`` (or ``{Fix}`` to start a sentence)
is where the fix goes, as each face words it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from studio.core.messages.english import ACTIONS, TEMPLATES

FieldValue = str | int | float


class Fix(BaseModel):
    """What the user should change: an option to set (a core parameter name, shown by the CLI as
    its flag and by the GUI as its control) with an example value, or an action to take."""

    model_config = ConfigDict(frozen=True)

    option: str = ""
    example: str = ""
    action: str = ""
    input: str = ""
    """The model input an action is about (e.g. which input's size to fix)."""


class Message(BaseModel):
    """One user-facing sentence as data; ``str()`` is its English (CLI) form."""

    model_config = ConfigDict(frozen=True)

    id: str
    fields: dict[str, FieldValue] = {}
    fix: Fix | None = None

    def english(self) -> str:
        return render(TEMPLATES[self.id], self.fields, cli_fix(self.fix) if self.fix else "")

    def __str__(self) -> str:
        return self.english()


def message(id: str, fix: Fix | None = None, **fields: FieldValue) -> Message:
    """A message of a known id (a typo in the id fails here, in the code that built it)."""
    if id not in TEMPLATES:
        raise KeyError(f"no English template for message id {id!r}")
    return Message(id=id, fields=fields, fix=fix)


def render(template: str, fields: dict[str, FieldValue], fix: str) -> str:
    """Fill a template; ``{Fix}`` is the fix text starting a sentence."""
    return template.format(**fields, fix=fix, Fix=fix[:1].upper() + fix[1:])


def flag(option: str) -> str:
    """The CLI flag of a core option: ``keep_float`` → ``--keep-float``."""
    return "--" + option.replace("_", "-")


def cli_fix(fix: Fix) -> str:
    """A fix in the CLI's words: the flag to pass, or the command to run."""
    if fix.action:
        return ACTIONS[fix.action].format(input=fix.input, example=fix.example)
    return f"pass {flag(fix.option)} {fix.example}".rstrip()


__all__ = ["Fix", "Message", "cli_fix", "flag", "message", "render"]
