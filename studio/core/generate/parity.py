"""Does the exported ONNX model compute what the PyTorch model does? Logits on a fixed prompt."""

from __future__ import annotations

import json
from pathlib import Path

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


def torch_logits(hf_dir: Path, ids: list[int]) -> np.ndarray:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(hf_dir, dtype=torch.float32)
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
                (1, decoder["num_key_value_heads"], 0, decoder["head_size"]), dtype=dtype
            )
        else:
            raise ValueError(f"unexpected decoder input {spec.name}")
    logits = session.run(["logits"], feed)[0]
    first: np.ndarray = logits[0].astype(np.float32)
    return first


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
) -> ParityReport:
    from transformers import AutoTokenizer

    hf_dir, onnx_dir, precision = Path(hf_dir), Path(onnx_dir), Precision(precision)
    ids = AutoTokenizer.from_pretrained(hf_dir).encode(prompt)
    return compare_logits(torch_logits(hf_dir, ids), onnx_logits(onnx_dir, ids), precision, prompt)
