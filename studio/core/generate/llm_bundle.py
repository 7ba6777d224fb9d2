"""LLM bundles: genai_config, tokenizer, ONNX model, the runner, README and a hashed manifest.

The manifest is the studio's usual one (``studio verify`` works on it); the LLM specifics — parity,
memory estimate, context length, runner — sit in its ``reports``.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

from studio import __version__
from studio.core.atomic import atomic_path
from studio.core.bundle.folder import (
    MANIFEST,
    FileEntry,
    Manifest,
    ModelInfo,
    check_destination,
    read_manifest,
    sha256_file,
)
from studio.core.bundle.seal import seal
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import TensorInfo
from studio.core.paths import assets_dir
from studio.core.units import human_size
from studio.runner import runner_files

GENAI_CONFIG = "genai_config.json"
RUNNER_NAME = "runner/generate.py"
RUNNER_SOURCE = Path(__file__).with_name("llm_runner.py")


def demo_lm_path() -> Path:
    """The small language model the studio ships (see scripts/make_demo_lm.py)."""
    return assets_dir() / "lm"


def demo_lm_reference_path() -> Path:
    """The same demo model exported in INT8, to compare against the INT4 one side by side.

    (Not FP32: at 21 M parameters that copy would be 85 MB in the repository.)"""
    return assets_dir() / "lm_int8"


def _tensor_infos(model: Path) -> tuple[list[TensorInfo], list[TensorInfo]]:
    import onnx

    proto = onnx.load(str(model), load_external_data=False)
    init = {i.name for i in proto.graph.initializer}

    def info(value: Any) -> TensorInfo:
        dims = [
            d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
            for d in value.type.tensor_type.shape.dim
        ]
        dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type).name
        return TensorInfo(name=value.name, dtype=dtype, shape=dims)

    return (
        [info(v) for v in proto.graph.input if v.name not in init],
        [info(v) for v in proto.graph.output],
    )


def _readme(manifest: Manifest, llm: dict[str, Any]) -> str:
    files = "\n".join(f"- `{f.path}` ({human_size(f.size)})" for f in manifest.files)
    parity = llm["parity"]
    return f"""# {manifest.model.name} — language model bundle ({manifest.precision})

Made by Edge Deploy Studio {manifest.studio_version} on {manifest.created} with onnxruntime-genai's
model builder. Architecture: {llm["architecture"]}; context length {llm["context_length"]} tokens.

## Run it
- With the studio: `studio generate <this folder> --prompt "Hello"`
- On a phone or board: `studio deploy <this folder> --device SERIAL`, then
  `studio generate <this folder> --device SERIAL --prompt "Hello"`.
- Anywhere with Python 3.10+ and `pip install onnxruntime-genai`:
  `python3 {RUNNER_NAME} --prompt "Hello"` (or `python3 runner/runner.py generate --prompt "Hello"`)
  prints one JSON line per chunk of text and a summary with time to first token and tokens/s.

## Checked before it was written
ONNX vs PyTorch logits on a fixed prompt: worst-position cosine {parity["min_cosine"]:.4f}
(tolerance: {parity["tolerance"]}), same top token at {parity["top1_agreement"]:.0%} of positions.

## Files
{files}

`studio verify <this folder>` re-computes every file's SHA-256 and compares it with manifest.json.
"""


def write_llm_bundle(
    onnx_dir: Path,
    out: Path,
    *,
    name: str,
    source: str,
    precision: str,
    architecture: str,
    parity: Any,
    memory: Any,
    force: bool = False,
) -> Manifest:
    """Copy the builder's output plus the runner into a bundle at ``out``, atomically."""
    check_destination(out, force)
    genai = json.loads((onnx_dir / GENAI_CONFIG).read_text(encoding="utf-8"))
    entry = genai["model"]["decoder"]["filename"]
    with atomic_path(out, replace=force) as partial:
        shutil.copytree(onnx_dir, partial)
        # The device runner every bundle carries, with this model's generate hook beside it.
        for rel, src in {**runner_files(), RUNNER_NAME: RUNNER_SOURCE}.items():
            (partial / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, partial / rel)
        inputs, outputs = _tensor_infos(partial / entry)
        files = [
            FileEntry(
                path=p.relative_to(partial).as_posix(), size=p.stat().st_size, sha256=sha256_file(p)
            )
            for p in sorted(partial.rglob("*"))
            if p.is_file()
        ]
        llm = {
            "kind": "llm",
            "architecture": architecture,
            "context_length": genai["model"].get("context_length"),
            "runner": RUNNER_NAME,
            "parity": parity.model_dump(mode="json"),
            "memory": memory.model_dump(mode="json"),
        }
        manifest = Manifest(
            studio_version=__version__,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model=ModelInfo(name=name, source=source),
            chip="this-pc",
            method=f"genai-{precision}",
            precision=str(precision),
            entry=entry,
            inputs=inputs,
            outputs=outputs,
            files=files,
            reports={"llm": llm},
        )
        seal_llm_bundle(partial, manifest, llm, "The bundle failed its own check")
    return manifest


def seal_llm_bundle(folder: Path, manifest: Manifest, llm: dict[str, Any], failure: str) -> None:
    """Write the bundle's README and manifest (the README hashed too), then check the result."""
    seal(folder, manifest, _readme(manifest, llm), failure)


def resolve_llm(model: str | Path | None) -> Path:
    """The folder to load for generation: a bundle or a genai folder; None → the demo LM."""
    if model is None or str(model) == "":
        path = demo_lm_path()
        if not (path / GENAI_CONFIG).is_file():
            raise BadInput(
                "The demo language model is missing from this install",
                "Reinstall the studio, or run scripts/make_demo_lm.py",
            )
        return path
    path = Path(model).expanduser()
    if not path.exists():
        raise BadInput(f"{path} does not exist", "Check the model or bundle path")
    if path.is_file():
        if path.name in (GENAI_CONFIG, MANIFEST) or path.suffix == ".onnx":
            path = path.parent
        else:
            raise BadInput(
                f"{path} is not a language model bundle",
                "Give the bundle folder (with genai_config.json)",
            )
    from studio.core.ovgenai import is_ov_llm

    if is_ov_llm(path):  # an OpenVINO GenAI model (llm-export --chip intel-…)
        return path
    if (path / GENAI_CONFIG).is_file():
        try:
            json.loads((path / GENAI_CONFIG).read_text(encoding="utf-8"))["model"]["decoder"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise BadInput(
                f"{path / GENAI_CONFIG} is damaged (no model.decoder section)",
                "Export the model again",
            ) from exc
        return path
    if (path / "config.json").is_file():
        raise BadInput(
            msg=message(
                "llm.not_exported", Fix(action="llm_export_first", input=str(path)), path=str(path)
            )
        )
    raise BadInput(
        f"{path} holds no language model (no {GENAI_CONFIG})",
        "Give a bundle made by `studio llm-export`, or leave it out for the demo model",
    )


def llm_report(folder: Path) -> dict[str, Any]:
    """The manifest's LLM section when the folder is a studio bundle, else {}."""
    if not (folder / MANIFEST).is_file():
        return {}
    try:
        return dict(read_manifest(folder).reports.get("llm") or {})
    except BadInput:
        return {}
