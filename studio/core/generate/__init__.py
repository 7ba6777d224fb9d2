"""Language models: export a Hugging Face causal LM to an onnxruntime-genai bundle (INT4/INT8/FP16/
FP32) with a parity check and a memory estimate, and stream generated text with live timings.

Modules: ``export`` (HF folder → bundle), ``parity`` (ONNX vs PyTorch logits), ``memory``
(estimate before export), ``llm_bundle`` (bundle layout, demo model), ``session`` (streaming on this
PC), ``llm_runner`` (the stand-alone runner shipped in bundles), ``settings`` (safe defaults).
"""
