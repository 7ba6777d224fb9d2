"""`studio llm-export --chip intel-…`: an OpenVINO GenAI bundle the NPU pipeline loads.

The conversion (convert.py) runs in a child process with the hub switched off, like the
onnxruntime-genai export: it imports torch, and a crash there must not take the studio down.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from studio import __version__
from studio.core.atomic import atomic_path
from studio.core.bundle.folder import Manifest, ModelInfo, check_destination
from studio.core.bundle.seal import file_entries, seal
from studio.core.errors import BadInput
from studio.core.generate.export import check_export_tools, check_hf_folder
from studio.core.messages import Fix, message
from studio.core.ovgenai import (
    INTEL_CHIPS,
    MAX_PROMPT_LEN,
    MIN_RESPONSE_LEN,
    NPU_CONFIG,
    NPU_GROUP_SIZE,
    OV_MODEL,
)

RUNNER = "runner/generate_openvino.py"
RUNNER_SOURCE = Path(__file__).with_name("npu_runner.py")


def check_chip(chip: str) -> None:
    if chip not in INTEL_CHIPS:
        raise BadInput(
            msg=message(
                "llm.chip_not_intel",
                Fix(action="leave_out_chip"),
                chip=chip,
                chips=", ".join(INTEL_CHIPS),
            )
        )


def check_group_size(folder: Path) -> None:
    """The NPU's INT4 groups are 128 weights along each input channel; the widths must divide."""
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    widths = {k: config.get(k) for k in ("hidden_size", "intermediate_size")}
    bad = {k: v for k, v in widths.items() if isinstance(v, int) and v % NPU_GROUP_SIZE}
    if bad:
        listed = ", ".join(f"{k} {v}" for k, v in bad.items())
        raise BadInput(
            f"{folder.name} has {listed}, not a multiple of {NPU_GROUP_SIZE} (the INT4 group "
            "size Intel's NPU pipeline needs)",
            "Pick a model whose hidden and MLP widths are multiples of 128",
        )


def _convert(src: Path, dst: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    args = [sys.executable, "-m", "studio.core.ovgenai.convert", str(src), str(dst)]
    done = subprocess.run(
        [*args, str(NPU_GROUP_SIZE)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BadInput(
            f"OpenVINO could not convert {src.name} ({last})",
            "Check that the folder is a complete Hugging Face causal LM",
        )


def _readme(manifest: Manifest) -> str:
    files = "\n".join(f"- `{f.path}`" for f in manifest.files)
    return f"""# {manifest.model.name} — OpenVINO GenAI model for {manifest.chip}

Made by Edge Deploy Studio {manifest.studio_version}: weights INT4 symmetric, group size
{NPU_GROUP_SIZE} (what OpenVINO GenAI's NPU guide asks for). The NPU blob is compiled by Intel's
NPU driver on the target PC at first load (the PyPI wheel carries no NPU compiler).

## Run it
- Here: `studio generate <this folder> --prompt "Hello"` (OpenVINO on the CPU).
- On the Intel PC: `pip install openvino-genai` then `python {RUNNER} --prompt "Hello"`: tries
  NPU (with `{NPU_CONFIG}`: MAX_PROMPT_LEN {MAX_PROMPT_LEN}, MIN_RESPONSE_LEN {MIN_RESPONSE_LEN}),
  then GPU, then CPU, and says which device it used.

## Files
{files}
"""


def export_ov_llm(model: str, out: str, chip: str, *, force: bool = False) -> Manifest:
    """HF folder → OpenVINO GenAI bundle at ``out`` (written to a temporary name, then renamed)."""
    started = time.perf_counter()
    check_chip(chip)
    check_export_tools()
    src = Path(model).expanduser()
    architecture = check_hf_folder(src)
    check_group_size(src)
    dest = Path(out).expanduser()
    check_destination(dest, force)
    with tempfile.TemporaryDirectory(prefix="studio-ov-") as tmp:
        _convert(src, Path(tmp) / "ov")
        with atomic_path(dest, replace=force) as partial:
            shutil.copytree(Path(tmp) / "ov", partial)
            npu = {"MAX_PROMPT_LEN": MAX_PROMPT_LEN, "MIN_RESPONSE_LEN": MIN_RESPONSE_LEN}
            (partial / NPU_CONFIG).write_text(json.dumps(npu, indent=2), encoding="utf-8")
            (partial / RUNNER).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(RUNNER_SOURCE, partial / RUNNER)
            files = file_entries(partial)
            llm = {
                "kind": "llm",
                "runtime": "openvino-genai",
                "architecture": architecture,
                "runner": RUNNER,
                "weights": f"int4_sym group {NPU_GROUP_SIZE}",
                "npu_pipeline": npu,
                "seconds": round(time.perf_counter() - started, 1),
            }
            manifest = Manifest(
                studio_version=__version__,
                created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                model=ModelInfo(name=src.name, source=str(src)),
                chip=chip,
                method="openvino-genai-int4-sym",
                precision="int4",
                entry=OV_MODEL,
                inputs=[],
                outputs=[],
                files=files,
                reports={"llm": llm},
            )
            seal(partial, manifest, _readme(manifest))
    return manifest
