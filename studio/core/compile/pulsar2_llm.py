"""Axera AX650N language models: a `pulsar2 llm_build` kit.

Pulsar2 ships only as Axera's docker image, so, as for CNNs (pulsar2.py), the studio prepares
what it needs and says what to run. Every flag and default below is from Axera's guide "大模型编译"
(github.com/AXERA-TECH/pulsar2-docs, source/appendix/build_llm.md, written for Pulsar2 5.2):
``--input_path`` the Hugging Face folder, ``--output_path``, ``--hidden_state_type`` (default
bf16), ``--weight_type`` (default s8), ``--kv_cache_len`` (default 127; the guide's example 1023),
``--prefill_len`` (the guide's example 128), ``--chip AX650``; then the ax-llm-build project's
``tools/embed_process.sh`` writes the bf16 embedding table; on the board ``axllm run <folder>``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from pydantic import BaseModel

from studio import __version__
from studio.core.atomic import atomic_path
from studio.core.bundle.folder import Manifest, ModelInfo, check_destination
from studio.core.bundle.seal import file_entries, seal
from studio.core.errors import BadInput
from studio.core.generate.memory import read_config

AXERA_LLM_CHIPS = ("axera-ax650n",)
GUIDE = "github.com/AXERA-TECH/pulsar2-docs, source/appendix/build_llm.md"
# The guide's list of verified models ("已验证模型"), as the model_type in their config.json.
VERIFIED_TYPES = {
    "qwen3": "Qwen3",
    "qwen2": "Qwen2.5 / DeepSeek-R1-Distill-Qwen",
    "minicpm": "MiniCPM4",
    "internvl_chat": "InternVL2.5 / InternVL3",
    "chatglm": "ChatGLM3",
    "llama": "Llama 3.2 / SmolLM2 / TinyLlama / OpenBuddy / DeepSeek-R1-Distill-Llama",
    "gemma2": "Gemma2",
    "phi": "Phi2",
    "phi3": "Phi3",
}
PREFILL_LEN = 128
KV_CACHE_LEN = 1023
HF_FOLDER = "hf_model"
SCRIPT = "pulsar2/llm_build.sh"
OUTPUT = "pulsar2/output"
_WEIGHTS = ("*.safetensors", "pytorch_model*.bin")
_TOKENIZERS = ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")


class Pulsar2LlmKit(BaseModel):
    chip: str
    bundle: str
    model_type: str
    verified: bool
    build_command: str
    prefill_len: int
    kv_cache_len: int
    notes: list[str] = []


def build_line(prefill_len: int, kv_cache_len: int) -> str:
    return (
        f"pulsar2 llm_build --input_path {HF_FOLDER} --output_path {OUTPUT} "
        f"--hidden_state_type bf16 --weight_type s8 --kv_cache_len {kv_cache_len} "
        f"--prefill_len {prefill_len} --chip AX650"
    )


def _script(line: str) -> str:
    return f"""#!/bin/sh
# Build this language model for the AX650N with Axera's Pulsar2 (its docker image), from the
# bundle folder, e.g.:
#   docker run -it --rm -v "$PWD":/data -w /data pulsar2:<version> sh {SCRIPT}
# Flags: `pulsar2 llm_build --help` and Axera's guide ({GUIDE}).
set -e
cd "$(dirname "$0")/.."
{line}
# Then the embedding table, with Axera's helper scripts (git clone
# https://github.com/AXERA-TECH/ax-llm-build):
#   ./tools/embed_process.sh {HF_FOLDER} {OUTPUT}
# On the board: copy {OUTPUT} with the tokenizer and config files, then `axllm run <folder>`.
"""


def _check_folder(src: Path) -> str:
    """The model_type, or BadInput naming what the folder lacks."""
    if not src.is_dir():
        raise BadInput(f"{src} is not a folder", "Give the Hugging Face model folder")
    config = read_config(src)
    if not any(next(src.glob(pattern), None) for pattern in _WEIGHTS):
        raise BadInput(
            f"{src} has no weights (*.safetensors or pytorch_model.bin)",
            "Download the whole model folder",
        )
    if not any((src / name).is_file() for name in _TOKENIZERS):
        raise BadInput(
            f"{src} has no tokenizer", "Copy the model's tokenizer files into the folder"
        )
    return str(config.get("model_type") or "")


def _lengths(context_length: int | None) -> tuple[int, int]:
    if context_length is None:
        return PREFILL_LEN, KV_CACHE_LEN
    if context_length <= PREFILL_LEN:
        raise BadInput(
            f"A context of {context_length} tokens is shorter than the AX650's prefill block "
            f"({PREFILL_LEN} tokens)",
            f"Choose a context length above {PREFILL_LEN}, e.g. 1024",
        )
    return PREFILL_LEN, context_length - 1


def _readme(name: str, kit: Pulsar2LlmKit) -> str:
    seen = (
        ""
        if kit.verified
        else (
            f"\n`{kit.model_type}` is not in the guide's list of verified models: Pulsar2 may refuse it.\n"
        )
    )
    return f"""# {name} — Pulsar2 LLM build kit for {kit.chip}

Made by Edge Deploy Studio {__version__}. The final compile runs in Axera's Pulsar2 (docker);
here is the kit. Run `sh {SCRIPT}` inside Pulsar2's docker image; it runs:

    {kit.build_command}

Prompts are processed {kit.prefill_len} tokens at a time, with room for {kit.kv_cache_len + 1}
tokens of context (prompt + answer). Source of every flag: {GUIDE}.
{seen}"""


def export_pulsar2_llm(
    model: str | Path,
    out: str | Path,
    chip: str,
    *,
    context_length: int | None = None,
    force: bool = False,
) -> Pulsar2LlmKit:
    """HF folder → a verified kit at ``out`` (the model's files + the llm_build script)."""
    if chip not in AXERA_LLM_CHIPS:
        raise BadInput(f"{chip} has no Pulsar2 LLM build", f"Choose {', '.join(AXERA_LLM_CHIPS)}")
    src = Path(model).expanduser()
    model_type = _check_folder(src)
    prefill, kv_cache = _lengths(context_length)
    dest = Path(out).expanduser()
    check_destination(dest, force)
    kit = Pulsar2LlmKit(
        chip=chip,
        bundle=str(dest),
        model_type=model_type,
        verified=model_type in VERIFIED_TYPES,
        build_command=build_line(prefill, kv_cache),
        prefill_len=prefill,
        kv_cache_len=kv_cache,
        notes=["Final compile runs in Axera's Pulsar2 (docker); here is the kit: run " + SCRIPT],
    )
    with atomic_path(dest, replace=force) as partial:
        (partial / HF_FOLDER).mkdir(parents=True)
        for path in sorted(src.iterdir()):
            if path.is_file():  # follows the HF cache's symlinks to their blobs
                shutil.copyfile(path, partial / HF_FOLDER / path.name)
        (partial / SCRIPT).parent.mkdir()
        (partial / SCRIPT).write_text(_script(kit.build_command), encoding="utf-8")
        manifest = Manifest(
            studio_version=__version__,
            created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            model=ModelInfo(name=src.name, source=str(src)),
            chip=chip,
            method="pulsar2-llm-kit",
            precision="int8",  # what Pulsar2 makes of it (--weight_type s8)
            entry=SCRIPT,
            inputs=[],
            outputs=[],
            files=file_entries(partial),
            reports={"compile": kit.model_dump(mode="json")},
        )
        seal(partial, manifest, _readme(src.name, kit))
    return kit
