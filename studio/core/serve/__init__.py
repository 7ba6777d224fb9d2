"""`studio serve`: a verified bundle answered over HTTP with the Open Inference Protocol (V2).

The HTTP stack (Starlette + uvicorn, orjson) is the optional ``[serve]`` extra; ``require_stack`` turns
its absence into one line saying what to install.
"""

from __future__ import annotations

from importlib.util import find_spec

from studio.core.errors import StudioError

INSTALL_LINE = "pip install 'edge-deploy-studio[serve]'"


def require_stack() -> None:
    """Refuse with one line when the [serve] extra is not installed."""
    try:
        missing = [name for name in ("starlette", "uvicorn", "orjson") if find_spec(name) is None]
    except ValueError:  # a module set to None in sys.modules (blocked) has no spec either
        missing = ["starlette"]
    if missing:
        raise StudioError(
            f"Serving needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed",
            f"Install the serve extra: {INSTALL_LINE}",
        )
