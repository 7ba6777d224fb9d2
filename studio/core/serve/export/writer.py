"""Write an export project: verify the bundle, copy it in with the V2 codec, add the target's
files and a README, all in a partial folder renamed into place when complete."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import Any

from studio import __version__
from studio.core.atomic import atomic_path
from studio.core.bundle.folder import Manifest, verify_bundle
from studio.core.errors import BadInput, OutputError
from studio.core.serve import v2
from studio.core.serve.export import TARGETS, ExportResult
from studio.core.serve.model import is_llm, verified_manifest

MARKER = ".studio-export.json"
"""Marks a folder this command wrote, so --force replaces only an earlier export."""
CODEC = "edge_v2.py"


@dataclass(frozen=True)
class Project:
    """What a target needs to write its files."""

    manifest: Manifest
    target: str
    options: dict[str, Any]

    @property
    def name(self) -> str:
        """The model's name in V2 routes, as `studio serve` answers it."""
        return self.manifest.model.name

    @property
    def slug(self) -> str:
        """A Kubernetes resource name for the model (lower case, digits and dashes)."""
        slug = re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")[:50].strip("-")
        return slug or "model"

    def example_request(self) -> dict[str, Any]:
        """A V2 request of zeros (flexible sizes set to 1), as the README's curl sends it."""
        inputs = []
        for t in self.manifest.inputs:
            shape = [d if isinstance(d, int) else 1 for d in t.shape]
            count = 1
            for d in shape:
                count *= d
            datatype = v2.V2_DATATYPES.get(t.dtype, t.dtype.upper())
            inputs.append(
                {"name": t.name, "shape": shape, "datatype": datatype, "data": [0] * count}
            )
        return {"inputs": inputs}

    def curl(self, port: int) -> str:
        body = json.dumps(self.example_request())
        if len(body) > 400:  # a big image tensor: show its shape and leave the data to the reader
            body = re.sub(r'"data": \[[0, ]*\]', '"data": [...]', body)
        url = f"http://127.0.0.1:{port}/v2/models/{self.name}/infer"
        return f"curl -H 'Content-Type: application/json' {url} -d '{body}'"


def _target(target: str) -> ModuleType:
    if target not in TARGETS:
        raise BadInput(
            f"Unknown export target '{target}'",
            f"Choose one of: {', '.join(TARGETS)}",
        )
    return import_module(TARGETS[target])


def _check_out(out: Path, force: bool) -> bool:
    """True when ``out`` exists and may be replaced; OutputError when it must not be."""
    if not out.exists() and not out.is_symlink():
        return False
    if not out.is_dir() or out.is_symlink():
        raise OutputError(f"{out} exists and is not a folder", "Choose a new folder with --out")
    if not any(out.iterdir()):
        return True
    if not (out / MARKER).is_file():
        raise OutputError(
            f"{out} already holds files that are not a studio export",
            "Choose a new or empty folder with --out (the studio never deletes your files)",
        )
    if not force:
        raise OutputError(
            f"{out} already holds an export", "Choose another --out folder or pass --force"
        )
    return True


def _manifest(bundle: Path) -> Manifest:
    manifest = verified_manifest(bundle)
    if is_llm(manifest):
        raise BadInput(
            f"{bundle} is a language-model bundle, which these exports do not serve",
            "Serve it with `studio serve` (OpenAI-style routes)",
        )
    return manifest


def write_project(
    bundle: Path, target: str, out: Path, *, force: bool = False, **options: Any
) -> ExportResult:
    module = _target(target)
    replace = _check_out(out, force)
    project = Project(_manifest(bundle), target, options)
    if hasattr(module, "precheck"):  # what a target needs, before anything is copied
        module.precheck(project)
    with atomic_path(out, replace=replace) as temp:
        temp.mkdir()
        shutil.copytree(bundle, temp / "bundle", symlinks=True)
        copied = verify_bundle(temp / "bundle")
        if not copied.ok:  # the bundle changed between the check and the copy
            raise BadInput(
                f"{bundle} changed while it was copied ({'; '.join(copied.problems()[:2])})",
                "Try again once nothing writes to the bundle",
            )
        codec = [CODEC] if getattr(module, "SERVES", True) else []  # kfp builds, never serves
        if codec:
            shutil.copyfile(Path(v2.__file__), temp / CODEC)
        files: dict[str, str] = module.files(project)
        files["README.md"] = module.readme(project)
        for rel, text in files.items():
            (temp / rel).parent.mkdir(parents=True, exist_ok=True)
            (temp / rel).write_text(text, encoding="utf-8")
        built: list[str] = module.finish(project, temp) if hasattr(module, "finish") else []
        written = sorted([*files, *codec, *built])
        marker = {"studio_version": __version__, "target": target, "model": project.name}
        (temp / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
    return ExportResult(
        target=target, out=str(out), model=project.name, files=written, command=module.COMMAND
    )


def project_readme(project: Project, title: str, run: str, port: int, more: str = "") -> str:
    """The few lines every project's README.md has: what it is, how to run it, a curl."""
    return (
        f"# {project.name} on {title}\n\n"
        f"Written by `studio export --to {project.target}` (Edge Deploy Studio {__version__}) "
        f"from a verified bundle (copied to `bundle/`; `{CODEC}` re-checks its hashes when it "
        "loads). It answers the Open Inference Protocol (V2) as `studio serve` does.\n\n"
        f"Run it (in this folder, with onnxruntime and numpy beside {title}):\n\n"
        f"    {run}\n\n"
        f"Ask it:\n\n    {project.curl(port)}\n"
        f"{more}"
    )
