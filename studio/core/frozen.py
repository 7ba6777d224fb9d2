"""The studio running as a frozen app (the PyInstaller build in packaging/).

Two things differ from a Python install. The shipped files live under the build's internal folder
(``sys._MEIPASS``), not next to the ``studio`` sources. And there is no ``python3``:
``sys.executable`` is the app itself, so the studio's runner.py is started on This PC as
``EdgeDeployStudio --run-python-script runner.py ...`` (the frozen entry point,
packaging/edge_deploy_studio.py, hands that to ``run_script_from_argv``) and runs on the app's own
onnxruntime. PyTorch is left out of the build, so exporting says where it can be done instead.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from studio.core.errors import BadInput

RUN_SCRIPT_FLAG = "--run-python-script"
EXPORT_ELSEWHERE = (
    "Export in a Python install of the studio with the [export] extra: "
    "pip install torch==2.13.0 && pip install 'edge-deploy-studio[export]'"
)


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def frozen_root() -> Path | None:
    """The build's internal folder (read-only: nothing is ever written there), or None."""
    if not is_frozen():
        return None
    meipass = getattr(sys, "_MEIPASS", None)
    return Path(meipass) if meipass else Path(sys.executable).resolve().parent


def python_command() -> list[str]:
    """The command that runs a Python script with the studio's own Python and onnxruntime."""
    return [sys.executable, RUN_SCRIPT_FLAG] if is_frozen() else [sys.executable]


def run_script_from_argv(argv: list[str]) -> bool:
    """Run ``argv[2]`` as ``__main__`` when ``argv[1]`` is RUN_SCRIPT_FLAG; False otherwise.

    The script sees ``sys.argv == [script, *rest]`` and its own folder first on ``sys.path``, as
    under ``python3 script ...``. A ``sys.exit`` in the script propagates as usual.
    """
    if len(argv) < 2 or argv[1] != RUN_SCRIPT_FLAG:
        return False
    if len(argv) < 3 or not Path(argv[2]).is_file():
        given = argv[2] if len(argv) > 2 else "nothing"
        print(f"error: {RUN_SCRIPT_FLAG} needs a Python script file, got {given}", file=sys.stderr)
        raise SystemExit(2)
    script = str(Path(argv[2]).resolve())
    sys.argv = [script, *argv[3:]]
    sys.path.insert(0, str(Path(script).parent))
    runpy.run_path(script, run_name="__main__")
    return True


def export_unavailable(what: str) -> BadInput:
    """The error for an export the frozen app cannot do (PyTorch is not part of it)."""
    return BadInput(
        f"{what} needs PyTorch, which the packaged app does not include", EXPORT_ELSEWHERE
    )
