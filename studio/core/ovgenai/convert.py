"""HF causal LM → stateful OpenVINO IR + tokenizer IRs, INT4 symmetric (run as a child process).

optimum-intel is not a dependency, so this does what its exporter does for decoder models:
trace the PyTorch model with explicit past keys/values (``ov.convert_model``), turn those into
internal state (what ``LLMPipeline`` expects, with ``beam_idx``), compress the weights with NNCF
and convert the tokenizer with openvino-tokenizers. All offline: nothing is downloaded.

Usage: ``python -m studio.core.ovgenai.convert HF_FOLDER OUT_FOLDER GROUP_SIZE``
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

_COPIED = ("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json")


def _wrapper(model: Any) -> Any:
    """The model as forward(input_ids, attention_mask, position_ids, beam_idx, *past) → flat."""
    import torch
    from transformers import DynamicCache

    config = model.config

    class Flat(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        # The argument names become the IR's parameter names, which LLMPipeline looks up.
        def forward(
            self, input_ids: Any, attention_mask: Any, position_ids: Any, beam_idx: Any, *past: Any
        ) -> Any:
            cache = DynamicCache(config=config)
            layers: list[Any] = list(cache.layers)  # full-attention layers of a Llama-like model
            for i, layer in enumerate(layers):
                # Set the layer's tensors directly: its update() would trace a cat with an empty
                # tensor, which OpenVINO cannot convert. beam_idx reorders the cache (GenAI's API).
                key = past[2 * i].index_select(0, beam_idx)
                value = past[2 * i + 1].index_select(0, beam_idx)
                layer.lazy_initialization(key, value)
                layer.keys, layer.values = key, value
            out = self.model(
                input_ids=input_ids,
                attention_mask=attention_mask,
                position_ids=position_ids,
                past_key_values=cache,
                use_cache=True,
            )
            flat = [t for layer in out.past_key_values.layers for t in (layer.keys, layer.values)]
            return (out.logits, *flat)

    return Flat()


def _make_stateful(ov_model: Any, layers: int) -> None:
    """Past inputs/present outputs → ReadValue/Assign, starting from an empty cache per batch."""
    import numpy as np
    import openvino.opset13 as ops
    from openvino._offline_transformations import apply_make_stateful_transformation

    pairs = {
        f"past_key_values.{i}.{kv}": f"present.{i}.{kv}"
        for i in range(layers)
        for kv in ("key", "value")
    }
    apply_make_stateful_transformation(ov_model, pairs)
    ids = ov_model.input("input_ids").get_node()
    batch = ops.gather(ops.shape_of(ids, output_type="i64"), ops.constant([0]), ops.constant(0))
    for op in ov_model.get_ops():
        if op.get_type_name() != "ReadValue":
            continue
        dims: list[Any] = [d.get_min_length() for d in op.get_output_partial_shape(0)]
        dims[0], dims[2] = batch, 0  # [batch, kv heads, 0 positions, head size]
        parts = [ops.constant(np.array([d], np.int64)) if isinstance(d, int) else d for d in dims]
        zero = ops.constant(np.array(0.0, np.float32))
        op.set_arguments([ops.broadcast(zero, ops.concat(parts, axis=0))])
    ov_model.validate_nodes_and_infer_types()


def convert(src: Path, out: Path, group_size: int) -> None:
    import nncf
    import openvino as ov
    import torch
    from openvino_tokenizers import convert_tokenizer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(src, dtype=torch.float32).eval()
    config = model.config
    layers = config.num_hidden_layers
    heads = config.num_key_value_heads or config.num_attention_heads
    head = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    example = [
        torch.ones(1, 3, dtype=torch.long),
        torch.ones(1, 5, dtype=torch.long),
        torch.arange(2, 5).unsqueeze(0),
        torch.zeros(1, dtype=torch.int32),
    ] + [torch.zeros(1, heads, 2, head) for _ in range(2 * layers)]
    shapes = [([-1, -1], ov.Type.i64)] * 3 + [([-1], ov.Type.i32)]
    shapes += [([-1, heads, -1, head], ov.Type.f32)] * (2 * layers)
    with torch.no_grad():
        ov_model = ov.convert_model(
            _wrapper(model),
            example_input=tuple(example),
            input=[(ov.PartialShape(s), t) for s, t in shapes],
        )
    kv = [f"{i}.{n}" for i in range(layers) for n in ("key", "value")]
    names = ["input_ids", "attention_mask", "position_ids", "beam_idx"]
    names += [f"past_key_values.{k}" for k in kv]
    for port, name in zip(ov_model.inputs, names, strict=True):
        port.get_tensor().set_names({name})
    outputs = ["logits"] + [f"present.{k}" for k in kv]
    for port, name in zip(ov_model.outputs, outputs, strict=True):
        port.get_tensor().set_names({name})
    _make_stateful(ov_model, layers)
    ov_model = nncf.compress_weights(
        ov_model,
        mode=nncf.CompressWeightsMode.INT4_SYM,
        group_size=group_size,
        ratio=1.0,
        backup_mode=nncf.BackupMode.INT8_SYM,  # embeddings/head: symmetric INT8, as for the NPU
    )
    out.mkdir(parents=True, exist_ok=True)
    ov.save_model(ov_model, out / "openvino_model.xml")
    tokenizer, detokenizer = convert_tokenizer(
        AutoTokenizer.from_pretrained(src), with_detokenizer=True
    )
    ov.save_model(tokenizer, out / "openvino_tokenizer.xml")
    ov.save_model(detokenizer, out / "openvino_detokenizer.xml")
    for name in _COPIED:
        if (src / name).is_file():
            shutil.copy2(src / name, out / name)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]))
