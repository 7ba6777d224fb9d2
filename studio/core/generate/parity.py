"""Does the exported ONNX model compute what the PyTorch model does? Logits on a fixed prompt."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from studio.core.generate.settings import Precision

PARITY_PROMPT = "In the beginning was the Word. 床前明月光，疑是地上霜。 The quick brown fox"
# Worst-position cosine similarity between ONNX and PyTorch logits that each precision must reach.
# FP32 differs only by kernel rounding; quantized weights move logits more but keep their shape.
MIN_COSINE = {
    Precision.FP32: 0.9999,
    Precision.FP16: 0.999,
    Precision.INT8: 0.99,
    Precision.INT4: 0.95,
}


class ParityReport(BaseModel):
    prompt: str
    prompt_tokens: int
    precision: Precision
    min_cosine: float
    """Cosine similarity of the logit vectors at the worst prompt position."""
    max_abs_diff: float
    max_abs_reference: float
    top1_agreement: float
    """Share of positions where both models rank the same next token first."""
    tolerance: str
    passed: bool

    def summary(self) -> str:
        verdict = "match" if self.passed else "DIFFER MORE THAN EXPECTED"
        return (
            f"ONNX and PyTorch outputs {verdict}: cosine {self.min_cosine:.4f} "
            f"(needs ≥ {MIN_COSINE[self.precision]}), same top token at "
            f"{self.top1_agreement:.0%} of {self.prompt_tokens} positions"
        )


def torch_logits(hf_dir: Path, ids: list[int], trust_remote_code: bool = False) -> np.ndarray:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(
        hf_dir, dtype=torch.float32, trust_remote_code=trust_remote_code
    )
    model.eval()
    with torch.no_grad():
        logits: np.ndarray = model(torch.tensor([ids])).logits[0].float().numpy()
        return logits


def onnx_logits(onnx_dir: Path, ids: list[int]) -> np.ndarray:
    """Run the exported decoder once over the whole prompt with an empty KV cache."""
    import onnxruntime as ort

    config = json.loads((onnx_dir / "genai_config.json").read_text(encoding="utf-8"))
    decoder = config["model"]["decoder"]
    session = ort.InferenceSession(
        str(onnx_dir / decoder["filename"]), providers=["CPUExecutionProvider"]
    )
    n = len(ids)
    feed: dict[str, np.ndarray] = {}
    for spec in session.get_inputs():
        if spec.name == "input_ids":
            feed[spec.name] = np.array([ids], dtype=np.int64)
        elif spec.name == "attention_mask":
            feed[spec.name] = np.ones((1, n), dtype=np.int64)
        elif spec.name == "position_ids":
            feed[spec.name] = np.arange(n, dtype=np.int64)[None]
        elif spec.name.startswith("past_key_values"):
            dtype = np.float16 if "float16" in spec.type else np.float32
            feed[spec.name] = np.zeros(
                (
                    1,
                    decoder["num_key_value_heads"],
                    _past_capacity(decoder, spec.name),
                    decoder["head_size"],
                ),
                dtype=dtype,
            )
        else:
            raise ValueError(f"unexpected decoder input {spec.name}")
    logits = session.run(["logits"], feed)[0]
    first: np.ndarray = logits[0].astype(np.float32)
    return first


def _past_capacity(decoder: dict[str, Any], name: str) -> int:
    """Empty cache for full-attention layers; a sliding-window layer's cache is a shared buffer
    as long as its window (what onnxruntime-genai allocates), which the attention node requires."""
    window = decoder.get("sliding_window") or {}
    layer = re.search(r"\.(\d+)\.", name)
    layers = window.get("layers")  # absent: every layer slides
    if window and (layers is None or (layer and int(layer.group(1)) in layers)):
        return int(window["window_size"]) + int(window.get("cache_slack", 0))
    return 0


def compare_logits(
    reference: np.ndarray, candidate: np.ndarray, precision: Precision, prompt: str
) -> ParityReport:
    ref = reference.astype(np.float64)
    got = candidate.astype(np.float64)
    norms = np.linalg.norm(ref, axis=-1) * np.linalg.norm(got, axis=-1)
    cos = (ref * got).sum(-1) / (norms + 1e-12)
    min_cos = float(cos.min())
    return ParityReport(
        prompt=prompt,
        prompt_tokens=int(ref.shape[0]),
        precision=precision,
        min_cosine=round(min_cos, 6),
        max_abs_diff=float(np.abs(ref - got).max()),
        max_abs_reference=float(np.abs(ref).max()),
        top1_agreement=float((ref.argmax(-1) == got.argmax(-1)).mean()),
        tolerance=f"worst-position logit cosine ≥ {MIN_COSINE[precision]}",
        passed=min_cos >= MIN_COSINE[precision],
    )


def check_parity(
    hf_dir: str | Path,
    onnx_dir: str | Path,
    precision: Precision | str,
    prompt: str = PARITY_PROMPT,
    trust_remote_code: bool = False,
) -> ParityReport:
    """``trust_remote_code``: load the model with the Python code in ``hf_dir`` (checked by the
    export to be there: transformers then reads it from the folder, never from the hub)."""
    from transformers import AutoTokenizer

    hf_dir, onnx_dir, precision = Path(hf_dir), Path(onnx_dir), Precision(precision)
    tokenizer = AutoTokenizer.from_pretrained(hf_dir, trust_remote_code=trust_remote_code)
    ids = tokenizer.encode(prompt)
    reference = torch_logits(hf_dir, ids, trust_remote_code)
    return compare_logits(reference, onnx_logits(onnx_dir, ids), precision, prompt)
