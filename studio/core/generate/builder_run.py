"""The export's child process: onnxruntime-genai's model builder, after fitting the model's config
to what the pinned builder (0.18) reads.

Run as ``python -m studio.core.generate.builder_run <builder arguments>``. Three gaps between
transformers 5 configs and the builder are closed here, in this process only (the user's folder is
never written):

- per-layer-type rope (Gemma 3: ``rope_parameters = {"full_attention": ..., "sliding_attention":
  ...}``) is flattened to the global entry plus ``rope_local_base_freq``, which the builder reads;
- Phi-3 without long-rope scaling but with ``max_position_embeddings`` unequal to
  ``original_max_position_embeddings`` (a 2k context, where transformers defaults the original to
  4096) takes the plain Phi-3 path: the long-rope path needs factors such a model does not have;
- partial rotary whose cos/sin cache width is not a multiple of 8 (Phi-4-mini style at head size
  32) cannot be fused into GroupQueryAttention on CPU, so those models get a separate
  RotaryEmbedding node.
"""

from __future__ import annotations

import sys
from typing import Any

# onnxruntime's GroupQueryAttention needs the fused rope's cos/sin cache width to be a multiple of 8.
_FUSED_ROPE_MULTIPLE = 8


def adapt_config(config: Any) -> list[str]:
    """Change ``config`` (a transformers config) in place; return one note per change."""
    notes = []
    arch = (getattr(config, "architectures", None) or [""])[0]
    rope = getattr(config, "rope_parameters", None)
    if isinstance(rope, dict) and "rope_type" not in rope and "full_attention" in rope:
        full, local = (
            rope["full_attention"],
            rope.get("sliding_attention") or rope["full_attention"],
        )
        config.rope_parameters = dict(full)
        config.rope_theta = full.get("rope_theta", 10000.0)
        config.rope_local_base_freq = local.get("rope_theta", config.rope_theta)
        notes.append("per-layer rope flattened to rope_theta and rope_local_base_freq")
    rope = getattr(config, "rope_parameters", None) or {}
    original = getattr(config, "original_max_position_embeddings", None)
    if (
        arch == "Phi3ForCausalLM"
        and original is not None
        and original != config.max_position_embeddings
        and rope.get("rope_type") != "longrope"
    ):
        # transformers reads original_max_position_embeddings only for long-rope scaling.
        config.original_max_position_embeddings = config.max_position_embeddings
        notes.append("no long-rope scaling: original_max_position_embeddings set to the context")
    return notes


def fused_rope_fits(head_size: int, partial_rotary_factor: float) -> bool:
    """Can GroupQueryAttention apply this model's rope itself?"""
    rotary = int(head_size * partial_rotary_factor) if partial_rotary_factor != 1.0 else head_size
    return (rotary // 2) % _FUSED_ROPE_MULTIPLE == 0


def _patch_builder(builder: Any, base: Any) -> None:
    get_hf_details = builder.get_hf_details

    def adapted_hf_details(*args: Any, **kwargs: Any) -> dict[str, Any]:
        details: dict[str, Any] = get_hf_details(*args, **kwargs)
        for note in adapt_config(details["hf_config"]):
            print(f"Studio: {note}")
        return details

    builder.get_hf_details = adapted_hf_details
    fused_rope = base.Model.is_fused_rope_supported
    packed_matmul = base.Model.is_packed_matmul_supported

    def rope_fits(model: Any) -> bool:
        return fused_rope_fits(model.head_size, model.rope_attrs.get("partial_rotary_factor", 1.0))

    def is_fused_rope_supported(self: Any) -> bool:
        if not rope_fits(self):
            print(
                "Studio: the rotary width does not fit GroupQueryAttention, using RotaryEmbedding"
            )
            return False
        return bool(fused_rope(self))

    # A separate RotaryEmbedding reads Q and K as their own tensors, not one packed QKV MatMul.
    def is_packed_matmul_supported(self: Any) -> bool:
        return rope_fits(self) and bool(packed_matmul(self))

    base.Model.is_fused_rope_supported = is_fused_rope_supported
    base.Model.is_packed_matmul_supported = is_packed_matmul_supported


def main(argv: list[str]) -> None:
    """The builder's own ``__main__`` with the patches above."""
    import importlib

    from onnxruntime_genai.models import builder

    # The builder imports its classes as the top-level package "builders" (its folder is put on
    # sys.path), so the class to patch is that module's, not onnxruntime_genai.models.builders'.
    _patch_builder(builder, importlib.import_module("builders.base"))
    sys.argv = ["builder", *argv]
    args = builder.get_args()
    extra_options = builder.parse_extra_options(
        args.model_name,
        args.input,
        args.output,
        args.precision,
        args.execution_provider,
        args.cache_dir,
        args.extra_options,
        builder_config_version=args.builder_config_version,
        target_options=args.target_options,
        drafter_options=args.drafter_options,
        speculative_options=args.speculative_options,
        runtime_config=args.runtime_config,
        search=args.search,
    )
    builder.create_model(
        args.model_name,
        args.input,
        args.output,
        args.precision,
        args.execution_provider,
        args.cache_dir,
        **extra_options,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
