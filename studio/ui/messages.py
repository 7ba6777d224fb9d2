"""Core's messages (studio/core/messages) in the GUI's words and language.

Core gives an id, fields and a fix as data. Here the template comes from the current language's
message catalogue (assets/translations/messages/<language>.json, keyed by id; English is core's
own template), and a fix names the control to use in the app, never a CLI flag.
"""

from __future__ import annotations

import functools
import json
import logging

from studio.core.errors import StudioError
from studio.core.messages import Fix, Message, cli_fix, render
from studio.core.messages.english import TEMPLATES
from studio.core.paths import assets_dir
from studio.core.this_pc import THIS_PC_NAME
from studio.ui.i18n import ENGLISH, N_, current_language, tr

# Core option (parameter) name → the control that sets it, as a fix says it.
CONTROLS: dict[str, str] = {
    "calib": N_("choose Calibration samples under Advanced"),
    "eval": N_("choose Evaluation samples under Advanced"),
    "shape": N_("fix the input sizes on the Target step"),
    "opset": N_("set Opset under Advanced"),
    "keep_float": N_("use Keep in float on the Optimize step"),
    "ratio": N_("raise Ratio under Advanced"),
    "runs": N_("set Runs on the Inspect step"),
    "threads": N_("set Threads on the Inspect step"),
    "context": N_("give the context length"),
    "allow_cpu": N_("allow CPU fallback when compiling"),
    "port": N_("choose the serving port"),
}
# Core action → what to do in the app ({input}, {example} from the Fix).
ACTIONS: dict[str, str] = {
    # The app picks its own output names and never replaces a folder it did not write.
    "other_out": N_("choose another output location"),
    "out_or_force": N_("choose another output location"),
    "writable_out": N_("choose an output folder you can write to"),
    "folder_out": N_("choose a folder for the output"),
    "empty_out": N_("choose an empty or new folder"),
    "bundle_or_force": N_("choose another bundle folder"),
    "convert_opset": N_("set Opset {example} under Advanced"),
    "plug_in_device": N_("plug one in with USB debugging on, or choose This PC"),
    "choose_device": N_("choose one in the device list"),
    "other_device_folder": N_("choose another Folder on the device"),
    "writable_device_folder": N_("choose a Folder on the device it lets you write to"),
    "writable_to": N_("choose a folder you can write to"),
    "device_folder": N_("choose the Folder on the device"),
    "deploy_first": N_("press Push to device first"),
    "image_size_or_shape": N_("set Size under Advanced"),
    "samples_npz": N_("Calibration or Evaluation samples under Advanced"),
    # The GUI has no switch for these: they are the command line's (the fix says so).
    "trust_remote_code": N_("allow its code on the command line (studio llm-export)"),
    "llm_out_or_force": N_("choose another output folder"),
    "llm_export_first": N_("export it first on the command line (studio llm-export)"),
    "leave_out_chip": N_("export it without a chip for an onnxruntime-genai bundle"),
    "sign_in_no_check": N_("untick Work offline in Hub settings"),
    "modelscope_download": N_("download it by its ID"),
    "modelscope_download_first": N_("download it first"),
    "download_pattern": N_("download the files you need first"),
    "compress_json": N_("studio compress"),
    "other_out_folder": N_("choose another output folder"),
    "new_out_folder": N_("choose a new output folder"),
    "check_chip": N_("the Target step's check"),
    "other_port": N_("choose another port"),
}
# Display names core uses, marked so the catalogue keeps them (a test checks they match core's).
NAMES = [N_("This PC")]


def this_pc() -> str:
    """This PC's name in the current language (core's THIS_PC_NAME)."""
    return tr(THIS_PC_NAME)


def catalogue_path(language: str) -> str:
    return str(assets_dir() / "translations" / "messages" / f"{language}.json")


@functools.cache
def load_templates(language: str) -> dict[str, str]:
    """The message templates of ``language`` by id (English: core's own)."""
    if language == ENGLISH:
        return TEMPLATES
    try:
        with open(catalogue_path(language), encoding="utf-8") as file:
            found = json.load(file)
    except (OSError, ValueError):
        # A broken install shows English messages rather than none.
        logging.getLogger("studio").exception("could not load the %s messages", language)
        return TEMPLATES
    return {**TEMPLATES, **{k: v for k, v in found.items() if v and not k.startswith("@")}}


def gui_fix(fix: Fix) -> str:
    """A fix in the app's words: the control to use (a flag only if the GUI has no control)."""
    if fix.action in ACTIONS:
        return tr(ACTIONS[fix.action], input=fix.input, example=fix.example)
    if fix.option in CONTROLS:
        return tr(CONTROLS[fix.option])
    return cli_fix(fix)  # tests/test_messages.py checks every option core uses has a control


def show(msg: Message) -> str:
    """``msg`` as the GUI shows it, in the current language."""
    template = load_templates(current_language()).get(msg.id, TEMPLATES[msg.id])
    return render(template, msg.fields, gui_fix(msg.fix) if msg.fix else "")


def shown_error(exc: StudioError) -> str:
    """A user error as the GUI shows it: one with an id in its words and language."""
    return show(exc.msg) if exc.msg is not None else exc.message


def show_parts(parts: list[Message], english: str) -> str:
    """A text core gives as message parts read in order (e.g. a chip verdict); ``english`` when
    it has none (a result saved before it carried them)."""
    return "".join(show(part) for part in parts) if parts else english


def shown_warnings(warnings: list[str], notices: list[Message]) -> list[str]:
    """A result's warnings for the GUI: those with an id in its words, the rest as core wrote
    them (``warnings`` holds every warning in English, ``notices`` those that have an id)."""
    english = {n.english() for n in notices}
    return [show(n) for n in notices] + [w for w in warnings if w not in english]
