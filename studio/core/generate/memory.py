"""How much memory an LLM needs, estimated from its config before anything is exported."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from studio.core.errors import BadInput
from studio.core.generate.settings import Precision, parse_precision

# Bytes per weight as the model builder stores MatMul weights: INT4/INT8 keep one fp32 scale per
# block of 32 weights (4/32 = 0.125 bytes extra per weight).
_MATMUL_BYTES = {
    Precision.INT4: 0.5 + 0.125,
    Precision.INT8: 1 + 0.125,
    Precision.FP16: 2.0,
    Precision.FP32: 4.0,
}
# The builder keeps the embedding table in floating point (fp16 only for fp16 models).
_EMBED_BYTES = {Precision.INT4: 4.0, Precision.INT8: 4.0, Precision.FP16: 2.0, Precision.FP32: 4.0}
_DTYPE_BYTES = {"F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I8": 1, "U8": 1}


class MemoryEstimate(BaseModel):
    parameters: int
    embedding_parameters: int
    context_length: int
    precision: Precision
    weights_bytes: int
    kv_cache_bytes: int
    runtime_bytes: int
    """Weights + KV cache at full context + ~10% for activations and the runtime."""
    export_peak_bytes: int
    """What the export itself needs: the model in fp32 in PyTorch, plus the ONNX copy."""

    def summary(self) -> str:
        from studio.core.units import human_size

        return (
            f"about {human_size(self.runtime_bytes)} to run at {self.context_length} tokens "
            f"of context ({human_size(self.weights_bytes)} weights + "
            f"{human_size(self.kv_cache_bytes)} cache); exporting needs about "
            f"{human_size(self.export_peak_bytes)}"
        )


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / "config.json"
    if not path.is_file():
        raise BadInput(f"{folder} has no config.json", "Choose a Hugging Face model folder")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not valid JSON", "Re-download the model") from exc
    if not isinstance(config, dict):  # a list or a number has no settings to read
        raise BadInput(f"{path} is not a JSON object", "Re-download the model")
    return config


def _text_config(config: dict[str, Any]) -> dict[str, Any]:
    return config.get("text_config") or config


def count_parameters(folder: Path) -> tuple[int, int]:
    """(all parameters, embedding parameters) from safetensors headers — no weights are read."""
    total = embed = 0
    files = sorted(folder.glob("*.safetensors"))
    if not files:
        raise BadInput(
            f"{folder} has no .safetensors weights",
            "Save the model with save_pretrained(safe_serialization=True)",
        )
    for file in files:
        with file.open("rb") as handle:
            (size,) = struct.unpack("<Q", handle.read(8))
            header = json.loads(handle.read(size))
        for name, info in header.items():
            if name == "__metadata__":
                continue
            count = 1
            for dim in info["shape"]:
                count *= dim
            total += count
            if "embed_tokens" in name or "wte" in name:
                embed += count
    return total, embed


def estimate_memory(
    folder: str | Path,
    precision: Precision | str = Precision.INT4,
    context_length: int | None = None,
) -> MemoryEstimate:
    folder = Path(folder)
    precision = parse_precision(precision)
    config = _text_config(read_config(folder))
    params, embed = count_parameters(folder)
    tied = bool(config.get("tie_word_embeddings", False))
    layers = int(config.get("num_hidden_layers", 0))
    heads = int(config.get("num_attention_heads", 1))
    kv_heads = int(config.get("num_key_value_heads", heads))
    hidden = int(config.get("hidden_size", 0))
    head_dim = int(config.get("head_dim") or (hidden // max(heads, 1)))
    context = int(context_length or config.get("max_position_embeddings", 2048))
    # A tied embedding is stored once, quantized like the LM head (the builder then looks tokens up
    # with GatherBlockQuantized); an untied one keeps a floating-point table next to the head.
    if tied:
        weights = params * _MATMUL_BYTES[precision]
    else:
        weights = (params - embed) * _MATMUL_BYTES[precision] + embed * _EMBED_BYTES[precision]
    rotary = context * head_dim * 4  # cos and sin tables, half a head wide each, fp32
    weights = int(weights + rotary)
    kv_bytes = 2 if precision is Precision.FP16 else 4
    kv_cache = 2 * layers * kv_heads * head_dim * context * kv_bytes
    return MemoryEstimate(
        parameters=params,
        embedding_parameters=embed,
        context_length=context,
        precision=precision,
        weights_bytes=weights,
        kv_cache_bytes=kv_cache,
        runtime_bytes=int((weights + kv_cache) * 1.1),
        export_peak_bytes=int(params * 4 * 2 + weights),
    )


def available_memory() -> int | None:
    """Memory the system can still give, in bytes (None when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except ImportError:
        return None
