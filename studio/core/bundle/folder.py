"""A bundle: the model files, a manifest with every file's hash, the recipe and a README.

Written to a hidden partial folder and renamed into place only when complete; ``verify_bundle``
re-hashes every file so a receiver can prove nothing was lost or changed on the way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from studio import __version__
from studio.core.atomic import atomic_path
from studio.core.bundle.layout import MANIFEST_VERSION, migrate_manifest
from studio.core.chips.catalogue import get_chip
from studio.core.errors import BadInput, OutputError
from studio.core.messages import Fix, message
from studio.core.model.loader import TensorInfo, load_model, resolve_model_path, summarize
from studio.core.model.precision import Precision
from studio.core.progress import NULL_REPORTER, Reporter
from studio.core.schema import explain_validation, read_text_capped
from studio.core.units import human_size
from studio.runner import runner_files

MANIFEST = "manifest.json"
_CHUNK = 1 << 20


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    size: int
    sha256: str


class ModelInfo(BaseModel):
    name: str
    source: str
    revision: str | None = None


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    schema_version: int = MANIFEST_VERSION
    studio_version: str
    created: str
    model: ModelInfo
    chip: str
    method: str
    precision: str
    entry: str = Field(description="The model file to load, relative to the bundle")
    inputs: list[TensorInfo]
    outputs: list[TensorInfo]
    files: list[FileEntry]
    recipe: dict[str, Any] | None = None
    reports: dict[str, Any] = Field(default_factory=dict)
    """By key: "compress" (what the Optimize step did, without its drift report), "drift" (the
    drift report, when one was made), "profile", "check", "llm"; see manifest_reports."""


class VerifyResult(BaseModel):
    bundle: str
    ok: bool
    checked: int
    missing: list[str] = []
    extra: list[str] = []
    changed: list[str] = []
    # Links are never followed: a model.onnx linked to a secret file once verified OK and was
    # pushed to a phone. Listed or not, a symlink (to a file or a folder) fails the check.
    symlinks: list[str] = []

    def problems(self) -> list[str]:
        return (
            [f"missing: {p}" for p in self.missing]
            + [f"changed: {p}" for p in self.changed]
            + [f"symlink (not allowed in a bundle): {p}" for p in self.symlinks]
            + [f"extra: {p}" for p in self.extra]
        )


PRECISION = {
    "none": "fp32",
    "cleanup": "fp32",
    "int8-dynamic": "int8 weights",
    "int8-static": "int8",
    "int4": "int4 weights",
    "fp16": "fp16",
}


def _precision(method: str, found: Precision) -> str:
    """The method's precision; for a model bundled as it is, what the file itself computes in (a
    model compressed earlier with `studio compress` is not "fp32")."""
    if method != "none":
        return PRECISION.get(method, method)
    return found.label if found.quantized else {"float16": "fp16"}.get(found.kind, "fp32")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def safe_relative(path: str) -> PurePosixPath:
    """Reject absolute paths and '..' so a manifest cannot point outside its bundle."""
    rel = PurePosixPath(path.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts or ":" in rel.parts[0]:
        raise BadInput(
            f"The manifest lists an unsafe path '{path}'",
            "The bundle was tampered with; rebuild it",
        )
    return rel


def is_bundle(folder: Path) -> bool:
    return (folder / MANIFEST).is_file()


def check_destination(out: Path, force: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputError(
            msg=message("bundle.out_is_file", Fix(action="folder_out"), path=str(out))
        )
    if not any(out.iterdir()):
        return
    if not is_bundle(out):
        raise OutputError(
            msg=message("bundle.out_not_bundle", Fix(action="empty_out"), path=str(out))
        )
    if not force:
        raise OutputError(
            msg=message("bundle.out_exists", Fix(action="bundle_or_force"), path=str(out))
        )


def _readme(manifest: Manifest) -> str:
    rows = "\n".join(f"| {t.name} | {t.dtype} | {t.shape_text()} |" for t in manifest.inputs)
    outs = "\n".join(f"| {t.name} | {t.dtype} | {t.shape_text()} |" for t in manifest.outputs)
    files = "\n".join(f"- `{f.path}` ({human_size(f.size)})" for f in manifest.files)
    how = (
        f"method: {manifest.method}"
        if manifest.method != "none"
        else "as the model file holds it; this bundle did not compress it"
    )
    rebuild = (
        "\n`recipe.yaml` rebuilds this bundle: `studio run recipe.yaml --out <folder>`.\n"
        if manifest.recipe is not None
        else ""
    )
    return f"""# {manifest.model.name} for {manifest.chip}

Made by Edge Deploy Studio {manifest.studio_version} on {manifest.created}.
Precision: {manifest.precision} ({how}). Load `{manifest.entry}` with onnxruntime.

## Inputs
| name | type | shape |
|---|---|---|
{rows}

## Outputs
| name | type | shape |
|---|---|---|
{outs}

## Files
{files}

## Check it arrived intact
`studio verify <this folder>` re-computes every file's SHA-256 and compares it with
`manifest.json`. Without the studio: `sha256sum` each file and compare by hand.
{rebuild}"""


def create_bundle(
    model: str | Path,
    out: str | Path,
    *,
    chip: str = "this-pc",
    method: str = "none",
    source: str = "local",
    name: str | None = None,
    revision: str | None = None,
    recipe: dict[str, Any] | None = None,
    reports: dict[str, Any] | None = None,
    extra_files: dict[str, Path] | None = None,
    force: bool = False,
    report: Reporter = NULL_REPORTER,
) -> Manifest:
    """Write a verified bundle for ``model`` at ``out``."""
    model_path = resolve_model_path(model)
    get_chip(chip)
    out = Path(out).expanduser()
    check_destination(out, force)
    report.progress(0.0, "Checking the model")
    load_model(model_path, with_weights=False)
    summary = summarize(model_path)
    reports = dict(reports or {})
    compiled = _compile_report(model_path)
    if compiled is not None and "compile" not in reports:
        reports["compile"] = compiled
    if "check" not in reports:
        from studio.core.chips.check import check_for_manifest

        report.progress(0.1, "Checking the model against the chip")
        reports["check"] = check_for_manifest(model_path, chip)

    with atomic_path(out, replace=force) as partial:
        partial.mkdir()
        report.progress(0.2, "Copying the model")
        entry = "model.onnx"
        shutil.copy2(model_path, partial / entry)
        for data in _external_data(model_path):
            if not (model_path.parent / data).is_file():
                raise BadInput(
                    f"{model_path.name} needs {data} beside it, which is missing",
                    "Put the file next to the model (or compile the model again)",
                )
            shutil.copy2(model_path.parent / data, partial / data)
        # Every bundle carries the on-device runner (studio/runner) so a device can run it.
        for rel, src in {**runner_files(), **(extra_files or {})}.items():
            dest = partial / safe_relative(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if Path(src).is_dir():
                shutil.copytree(src, dest)
            else:
                shutil.copy2(src, dest)
        if recipe is not None:
            import yaml

            (partial / "recipe.yaml").write_text(
                yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True), encoding="utf-8"
            )
        report.progress(0.6, "Hashing files")
        files = [
            FileEntry(
                path=p.relative_to(partial).as_posix(), size=p.stat().st_size, sha256=sha256_file(p)
            )
            for p in sorted(partial.rglob("*"))
            if p.is_file()
        ]
        manifest = Manifest(
            studio_version=__version__,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model=ModelInfo(name=name or summary.name, source=source, revision=revision),
            chip=chip,
            method=method,
            # A model compressed earlier (`studio compress`, then `studio bundle`) says itself
            # what it computes in; "fp32" for it was wrong.
            precision=_precision(method, summary.precision),
            entry=entry,
            inputs=summary.inputs,
            outputs=summary.outputs,
            files=files,
            recipe=recipe,
            reports=reports or {},
        )
        readme = _readme(manifest)
        (partial / "README.md").write_text(readme, encoding="utf-8")
        manifest.files.append(
            FileEntry(
                path="README.md",
                size=len(readme.encode()),
                sha256=hashlib.sha256(readme.encode()).hexdigest(),
            )
        )
        (partial / MANIFEST).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        report.progress(0.9, "Verifying")
        result = verify_bundle(partial)
        if not result.ok:
            raise OutputError(
                f"The bundle failed its own check ({'; '.join(result.problems())})",
                "Report this as a bug",
            )
    report.progress(1.0, "Bundle written")
    return manifest


def _compile_report(model_path: Path) -> dict[str, Any] | None:
    """The compile.json `studio compile` wrote beside a compiled model, in brief: the on-device
    runner reads it to load the model with the NPU's execution provider."""
    path = model_path.parent / "compile.json"
    try:
        data = json.loads(read_text_capped(path)) if path.is_file() else None
    except (OSError, json.JSONDecodeError, BadInput):
        return None
    if not isinstance(data, dict) or data.get("model_file") != model_path.name:
        return None
    keys = ("chip", "backend", "arch", "soc_model", "all_on_npu", "npu_share", "activations")
    return {key: data.get(key) for key in keys}


def _external_data(model_path: Path) -> list[str]:
    """Files the model reads from beside it: external weights and compiled context binaries."""
    import onnx

    proto = onnx.load(str(model_path), load_external_data=False)
    locations = {
        entry.value
        for init in proto.graph.initializer
        for entry in init.external_data
        if entry.key == "location"
    }
    # A compiled model's EPContext node (embed_mode 0) names its context binary (e.g. the QNN
    # .bin) beside the model: it travels with the model and the manifest covers it.
    for node in proto.graph.node:
        if node.op_type != "EPContext":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if attrs.get("embed_mode", 1) == 0 and attrs.get("ep_cache_context"):
            locations.add(attrs["ep_cache_context"].decode("utf-8", "replace"))
    return sorted(str(safe_relative(loc)) for loc in locations)


def read_manifest(bundle: str | Path) -> Manifest:
    bundle = Path(bundle).expanduser()
    if not bundle.exists():
        raise BadInput(f"{bundle} does not exist", "Check the bundle path")
    if not bundle.is_dir():
        raise BadInput(f"{bundle} is not a folder", "A bundle is a folder with a manifest.json")
    path = bundle / MANIFEST
    if not path.is_file():
        raise BadInput(
            f"{bundle} has no {MANIFEST}",
            "This is not a studio bundle; build one with `studio bundle`",
        )
    try:
        data = json.loads(read_text_capped(path))
    except json.JSONDecodeError as exc:
        raise BadInput(f"{MANIFEST} in {bundle} is not valid JSON", "Rebuild the bundle") from exc
    version = data.get("schema_version") if isinstance(data, dict) else None
    # Not a number: left to validation below, which says so (comparing it raised a TypeError).
    if isinstance(version, int) and version > MANIFEST_VERSION:
        raise BadInput(
            f"{MANIFEST} is schema version {version}, newer than this studio understands",
            "Update Edge Deploy Studio",
        )
    try:
        if isinstance(data, dict):
            data = migrate_manifest(data)
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        raise explain_validation(exc, f"{bundle.name}/{MANIFEST}") from exc
    for entry in manifest.files:
        safe_relative(entry.path)
    safe_relative(manifest.entry)
    return manifest


def _entries(bundle: Path) -> tuple[set[str], list[str]]:
    """(regular files, symlinks) under ``bundle`` without following any link; anything else that
    is not a folder (a FIFO, a device node) counts as a file so it shows up as unlisted."""
    files, links = set(), []
    for root, dirs, names in os.walk(bundle, followlinks=False):
        for name in dirs + names:
            path = Path(root) / name
            rel = path.relative_to(bundle).as_posix()
            if path.is_symlink():
                links.append(rel)
            elif name in names:
                files.add(rel)
    return files, sorted(links)


def _same_file(path: Path, entry: FileEntry) -> bool:
    # is_file first: a FIFO in a listed file's place must not block the hash.
    return (
        path.is_file() and path.stat().st_size == entry.size and sha256_file(path) == entry.sha256
    )


def verify_bundle(bundle: str | Path, report: Reporter = NULL_REPORTER) -> VerifyResult:
    bundle = Path(bundle).expanduser()
    manifest = read_manifest(bundle)
    listed = {entry.path: entry for entry in manifest.files}
    present, symlinks = _entries(bundle)
    present.discard(MANIFEST)
    missing, changed = [], []
    for index, (rel, entry) in enumerate(sorted(listed.items())):
        report.progress(index / max(len(listed), 1), f"Checking {rel}")
        path = bundle / rel
        if rel not in present:  # absent, a folder, or reached through a symlink
            if not any(rel == link or rel.startswith(link + "/") for link in symlinks):
                missing.append(rel)
        elif not _same_file(path, entry):
            changed.append(rel)
    extra = sorted(present - set(listed))
    report.progress(1.0, "Checked")
    return VerifyResult(
        bundle=str(bundle),
        ok=not (missing or changed or extra or symlinks),
        checked=len(listed),
        missing=missing,
        extra=extra,
        changed=changed,
        symlinks=symlinks,
    )
