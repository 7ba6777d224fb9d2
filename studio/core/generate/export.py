"""Hugging Face causal-LM folder → ONNX with KV cache (INT4/INT8/FP16/FP32) → verified LLM bundle.

The conversion is onnxruntime-genai's model builder, run as a child process (it imports torch and
transformers, from the ``[export]`` extra) with the hub switched off, so it never downloads.
Then the ONNX logits are compared with the PyTorch logits on a fixed prompt and the result goes
into the bundle's manifest next to the memory estimate.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.bundle.folder import Manifest
from studio.core.errors import BadInput, OutputError, StudioError
from studio.core.frozen import export_unavailable, is_frozen
from studio.core.generate.llm_bundle import write_llm_bundle
from studio.core.generate.memory import (
    MemoryEstimate,
    available_memory,
    estimate_memory,
    read_config,
)
from studio.core.generate.parity import ParityReport, check_parity
from studio.core.generate.settings import Precision, parse_precision
from studio.core.messages import Fix, message
from studio.core.privacy import keep_private
from studio.core.progress import NULL_REPORTER, Reporter

# Text-only causal LMs the model builder converts (onnxruntime-genai 0.18 builder.py).
SUPPORTED_ARCHITECTURES = (
    "LlamaForCausalLM",
    "MistralForCausalLM",
    "Qwen2ForCausalLM",
    "Qwen3ForCausalLM",
    "PhiForCausalLM",
    "Phi3ForCausalLM",
    "GemmaForCausalLM",
    "Gemma2ForCausalLM",
    "Gemma3ForCausalLM",
    "SmolLM3ForCausalLM",
    "GraniteForCausalLM",
    "OlmoForCausalLM",
    "NemotronForCausalLM",
    "InternLM2ForCausalLM",
    "Ernie4_5ForCausalLM",
)
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")


class LlmExportResult(BaseModel):
    bundle: str
    precision: Precision
    architecture: str
    size_bytes: int
    memory: MemoryEstimate
    parity: ParityReport
    seconds: float
    manifest: Manifest
    warnings: list[str] = []


def check_export_tools() -> None:
    if is_frozen():
        raise export_unavailable("Exporting a language model")
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        raise BadInput(
            f"Exporting a language model needs {' and '.join(missing)}, which are not installed",
            "Install them with: pip install torch==2.13.0 && pip install -e '.[export]'",
        )


def needs_remote_code(config: dict[str, Any]) -> bool:
    """Does this model need the Python code in its folder (transformers has no class for it)?"""
    if not config.get("auto_map"):
        return False
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return config.get("model_type") not in CONFIG_MAPPING_NAMES


def check_remote_code(
    folder: Path, config: dict[str, Any], arch: str, trust_remote_code: bool
) -> None:
    """Refuse code the user has not allowed, and code that is not in the folder (never fetched)."""
    if not trust_remote_code:
        raise BadInput(
            msg=message(
                "llm.trust_remote_code",
                Fix(action="trust_remote_code"),
                name=folder.name,
                arch=arch,
            )
        )
    for value in config["auto_map"].values():
        for ref in value if isinstance(value, list) else [value]:
            if not ref:
                continue
            if "--" in ref:  # "owner/repo--module.Class": code from another hub repository
                raise BadInput(
                    f"{folder.name}'s config.json takes its code from another repository "
                    f"({ref.split('--')[0]}), which the studio never downloads",
                    "Copy that code into the folder and point auto_map at it",
                )
            module = ref.rsplit(".", 1)[0]
            if not (folder / f"{module.replace('.', '/')}.py").is_file():
                raise BadInput(
                    f"{folder.name}'s config.json names {module}.py, which is not in the folder",
                    "Copy the model's .py files into the folder; the studio never downloads code",
                )


def check_hf_folder(folder: Path, trust_remote_code: bool = False) -> str:
    """Return the architecture name, or raise BadInput saying what is wrong with the folder."""
    if not folder.exists():
        raise BadInput(f"{folder} does not exist", "Check the model folder path")
    if not folder.is_dir():
        raise BadInput(
            f"{folder} is not a folder",
            "Give the Hugging Face model folder (with config.json), not a file",
        )
    config = read_config(folder)
    architectures = config.get("architectures") or []
    arch = architectures[0] if architectures else ""
    if arch not in SUPPORTED_ARCHITECTURES and config.get("auto_map"):
        raise BadInput(
            f"The model builder (onnxruntime-genai) cannot convert {arch}, even with its own code",
            f"Use a causal language model such as {', '.join(SUPPORTED_ARCHITECTURES[:4])}",
        )
    if arch not in SUPPORTED_ARCHITECTURES:
        raise BadInput(
            f"{folder.name} is a {arch or 'model of unknown type'}, which the LLM export does not "
            "support",
            f"Use a causal language model such as {', '.join(SUPPORTED_ARCHITECTURES[:4])}",
        )
    if needs_remote_code(config):
        check_remote_code(folder, config, arch, trust_remote_code)
    if not any((folder / name).is_file() for name in _TOKENIZER_FILES):
        raise BadInput(
            f"{folder} has no tokenizer (tokenizer.json)",
            "Copy the model's tokenizer files into the folder",
        )
    return arch


_LAYER = re.compile(r"Reading layer (\d+)")


@contextlib.contextmanager
def _terminate_on_sigterm() -> Iterator[None]:
    """Turn SIGTERM (job cancel) into an exception so the builder child is stopped too."""
    if os.name == "nt" or not _is_main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _is_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# Weight-only INT4/INT8 quantizes in blocks that share one scale; the builder's default is 32.
# Wider blocks mean fewer scales and a faster CPU kernel (int8 activations, accuracy level 4); at
# 128 the builder's "rtn" quantizer keeps the outputs as close as 64 did, its default one does not
# (figures: benchmarks/README.md, "Figures behind the code"). Widths 128 does not divide use 64,
# then 32.
BLOCK_SIZES = (128, 64)
NARROW_BLOCK = 32


def weight_block_size(config: dict[str, Any]) -> int:
    """The MatMulNBits block size for a model with this Hugging Face config."""
    config = config.get("text_config") or config
    sizes = [config.get("hidden_size"), config.get("intermediate_size")]
    widths = [w for w in sizes if isinstance(w, int) and w > 0]
    if len(widths) < len(sizes):
        return NARROW_BLOCK
    return next((b for b in BLOCK_SIZES if all(w % b == 0 for w in widths)), NARROW_BLOCK)


def weight_options(config: dict[str, Any]) -> list[str]:
    """The model builder's options for INT4/INT8 weights of a model with this config."""
    block = weight_block_size(config)
    return [f"block_size={block}", *(["algo_config=rtn"] if block == BLOCK_SIZES[0] else [])]


def run_builder(
    hf_dir: Path,
    out_dir: Path,
    precision: Precision,
    layers: int,
    report: Reporter,
    context_length: int | None = None,
    trust_remote_code: bool = False,
) -> None:
    """Run onnxruntime-genai's model builder, streaming its output to the job log."""
    cache = Path(tempfile.mkdtemp(prefix="studio-builder-cache-"))
    cmd = [
        sys.executable,
        "-m",
        "studio.core.generate.builder_run",
        "-i",
        str(hf_dir),
        "-o",
        str(out_dir),
        "-p",
        precision.value,
        "-e",
        "cpu",
        "-c",
        str(cache),
    ]
    options = []
    if context_length:
        options.append(f"context_length={context_length}")
    if precision in (Precision.INT4, Precision.INT8):
        options += weight_options(read_config(hf_dir))
    if trust_remote_code:
        options.append("hf_remote=true")  # the folder's own code; the hub is off, so never fetched
    if options:
        cmd += ["--extra_options", *options]
    env = {
        **keep_private(dict(os.environ)),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONIOENCODING": "utf-8",
        "TQDM_DISABLE": "1",
    }
    tail: list[str] = []
    process = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",
        env=env,
    )
    try:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            if not line:
                continue
            tail = [*tail[-40:], line]
            report.log(line)
            match = _LAYER.search(line)
            if match and layers:
                report.progress(int(match.group(1)) / layers, f"Converting layer {match.group(1)}")
            elif "Saving ONNX model" in line:
                report.progress(1.0, "Writing the ONNX model")
        code = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(cache, ignore_errors=True)
    if code != 0:
        last = next(
            (t for t in reversed(tail) if "Error" in t or "error" in t),
            tail[-1] if tail else "no output",
        )
        raise StudioError(
            f"The model builder failed ({last.strip()[:200]})",
            "See the job log for the builder's full output",
        )


def _checked_parity(
    model_dir: Path,
    onnx_dir: Path,
    precision: Precision,
    arch: str,
    trust_remote_code: bool = False,
) -> ParityReport:
    """The parity check, with a failure of either runtime as one sentence instead of a traceback."""
    try:
        return check_parity(model_dir, onnx_dir, precision, trust_remote_code=trust_remote_code)
    except StudioError:
        raise
    except Exception as error:  # onnxruntime and transformers raise many types; all end the same
        first = (str(error).strip().splitlines() or [type(error).__name__])[-1]
        first = first.split("Status Message:")[-1].strip()  # onnxruntime puts the cause last
        raise StudioError(
            f"The exported {arch} model could not be compared with PyTorch ({first[:200]})",
            "The model builder does not convert this model correctly; nothing was written",
        ) from error


def export_llm(
    model_dir: str | Path,
    out: str | Path,
    *,
    precision: Precision | str = Precision.INT4,
    context_length: int | None = None,
    name: str | None = None,
    source: str = "local",
    force: bool = False,
    trust_remote_code: bool = False,
    report: Reporter = NULL_REPORTER,
) -> LlmExportResult:
    """Export a Hugging Face causal LM to an onnxruntime-genai bundle at ``out``."""
    import time

    started = time.monotonic()
    model_dir = Path(model_dir).expanduser()
    out = Path(out).expanduser()
    precision = parse_precision(precision)
    if context_length is not None and context_length < 16:
        raise BadInput(f"Context length {context_length} is too small", "Use 16 tokens or more")
    arch = check_hf_folder(model_dir, trust_remote_code)
    check_export_tools()
    if out.exists() and out.is_dir() and any(out.iterdir()) and not force:
        raise OutputError(
            msg=message("llm.out_not_empty", Fix(action="llm_out_or_force"), path=str(out))
        )
    memory = estimate_memory(model_dir, precision, context_length)
    report.log(f"Memory estimate: {memory.summary()}")
    warnings: list[str] = []
    free = available_memory()
    if free is not None and memory.export_peak_bytes > free:
        warnings.append(
            f"Exporting may run out of memory: it needs about "
            f"{memory.export_peak_bytes / 1024**3:.1f} GB, "
            f"{free / 1024**3:.1f} GB is free"
        )
        report.log(warnings[-1])
    layers = int(
        (read_config(model_dir).get("text_config") or read_config(model_dir)).get(
            "num_hidden_layers", 0
        )
    )
    with tempfile.TemporaryDirectory(prefix="studio-llm-export-") as work, _terminate_on_sigterm():
        onnx_dir = Path(work) / "onnx"
        report.progress(0.0, "Converting to ONNX")
        run_builder(
            model_dir,
            onnx_dir,
            precision,
            layers,
            report.sub(0.0, 0.7),
            context_length,
            trust_remote_code,
        )
        report.progress(0.7, "Comparing ONNX and PyTorch outputs")
        parity = _checked_parity(model_dir, onnx_dir, precision, arch, trust_remote_code)
        report.log(parity.summary())
        if not parity.passed:
            warnings.append(parity.summary())
        report.progress(0.85, "Writing the bundle")
        manifest = write_llm_bundle(
            onnx_dir,
            out,
            name=name or model_dir.name,
            source=source,
            precision=precision,
            architecture=arch,
            parity=parity,
            memory=memory,
            force=force,
        )
    size = sum(f.size for f in manifest.files)
    report.progress(1.0, "Exported")
    return LlmExportResult(
        bundle=str(out),
        precision=precision,
        architecture=arch,
        size_bytes=size,
        memory=memory,
        parity=parity,
        seconds=round(time.monotonic() - started, 2),
        manifest=manifest,
        warnings=warnings,
    )
