"""Turn text prompts into token inputs with the model's own tokenizer.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx

from studio.core.errors import BadInput
from studio.core.model.loader import graph_inputs


def find_tokenizer(model_path: Path) -> Path:
    for folder in (model_path.parent, model_path.parent.parent):
        candidate = folder / "tokenizer.json"
        if candidate.is_file():
            return candidate
    raise BadInput(
        f"Text prompts need the model's tokenizer.json next to {model_path.name}",
        "Put tokenizer.json from the model's repository beside the .onnx file, or give .npz tokens",
    )


def read_prompts(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".jsonl":
        prompts = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInput(
                    f"{path.name} line {number} is not JSON", "One object per line"
                ) from exc
            prompts.append(item.get("text", "") if isinstance(item, dict) else str(item))
    else:
        prompts = [line for line in text.splitlines() if line.strip()]
    prompts = [p for p in prompts if p.strip()]
    if not prompts:
        raise BadInput(f"{path.name} holds no prompts", "Write one prompt per line")
    return prompts


def load_prompts(
    path: Path, model: onnx.ModelProto, model_path: Path, limit: int, max_tokens: int = 128
) -> list[dict[str, np.ndarray]]:
    from tokenizers import Tokenizer

    inputs = {v.name: v for v in graph_inputs(model)}
    if "input_ids" not in inputs:
        raise BadInput(
            f"Text prompts feed models with an 'input_ids' input; this one takes "
            f"{', '.join(inputs)}",
            "Give the samples as a .npz with one array per input name",
        )
    unknown = set(inputs) - {"input_ids", "attention_mask", "position_ids", "token_type_ids"}
    if unknown:
        raise BadInput(
            f"Text prompts cannot fill the input(s) {', '.join(sorted(unknown))}",
            "Give the samples as a .npz with one array per input name",
        )
    tokenizer = Tokenizer.from_file(str(find_tokenizer(model_path)))
    samples = []
    for prompt in read_prompts(path)[:limit]:
        ids = tokenizer.encode(prompt).ids[:max_tokens] or [0]
        length = len(ids)
        feeds = {"input_ids": np.asarray([ids], dtype=np.int64)}
        if "attention_mask" in inputs:
            feeds["attention_mask"] = np.ones((1, length), dtype=np.int64)
        if "position_ids" in inputs:
            feeds["position_ids"] = np.arange(length, dtype=np.int64)[None]
        if "token_type_ids" in inputs:
            feeds["token_type_ids"] = np.zeros((1, length), dtype=np.int64)
        for name, array in feeds.items():
            elem = inputs[name].type.tensor_type.elem_type
            feeds[name] = array.astype(onnx.helper.tensor_dtype_to_np_dtype(elem))
        samples.append(feeds)
    return samples
