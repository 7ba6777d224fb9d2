"""`studio export BUNDLE --to TARGET --out DIR`: a small project that serves (or builds) the bundle
with another stack's own command, answering the same V2 requests as `studio serve`.

Each target module has ``files(project) -> dict[relative path, text]`` and ``COMMAND`` (how to run
the project); writer.py verifies the bundle, copies it in with the shared V2 codec and renames the
finished folder into place.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

TARGETS: dict[str, str] = {
    "bentoml": "studio.core.serve.export.to_bentoml",
    "mlserver": "studio.core.serve.export.to_mlserver",
    "kserve": "studio.core.serve.export.to_kserve",
    "ray-serve": "studio.core.serve.export.to_ray_serve",
    "kfp": "studio.core.serve.export.to_kfp",
}


class ExportResult(BaseModel):
    target: str
    out: str
    model: str
    files: list[str]
    """The project's own files (the copied bundle is under bundle/)."""
    command: str
    """How to run it, from inside ``out``."""


def export_bundle(
    bundle: Path, target: str, out: Path, *, force: bool = False, kfp_python: str | None = None
) -> ExportResult:
    """Write the project; ``kfp_python`` is a Python with the kfp SDK (--to kfp; default: this)."""
    from studio.core.serve.export.writer import write_project

    return write_project(Path(bundle), target, Path(out), force=force, kfp_python=kfp_python)


__all__ = ["TARGETS", "ExportResult", "export_bundle"]
