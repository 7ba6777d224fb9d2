"""Entry point of the frozen app: PyInstaller runs this file as ``__main__``.

Kept tiny on purpose: every job child of the frozen app is this same program started again, and it
runs this file's top until ``freeze_support()`` takes over, so nothing heavy may come before it.
"""

import multiprocessing
import os
import sys


def _ensure_std_streams() -> None:
    # A windowed Windows build has no console: sys.stdout/stderr are None there, and print() or
    # faulthandler (used by job children) would fail. Their output goes nowhere instead.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


if __name__ == "__main__":
    _ensure_std_streams()
    # A job child (multiprocessing spawn) or multiprocessing's resource tracker: run it and exit.
    multiprocessing.freeze_support()

    from studio.core.frozen import run_script_from_argv

    # `EdgeDeployStudio --run-python-script runner.py ...`: the app's Python standing in for
    # python3 (a bundle's runner on This PC).
    if run_script_from_argv(sys.argv):
        sys.exit(0)

    from studio.cli import main

    sys.exit(main())
