"""Language models for Intel's NPU: OpenVINO GenAI models (INT4 symmetric) and running them here.

The NPU settings come from OpenVINO GenAI's NPU guide
(https://docs.openvino.ai/2025/openvino-workflow-generative/inference-with-genai/inference-with-genai-on-npu.html):
symmetric INT4 weights with ``--group-size 128`` (channel-wise, ``-1``, only for models above 1 B
parameters), and the NPU pipeline's ``MAX_PROMPT_LEN`` (default 1024) / ``MIN_RESPONSE_LEN``
(default 128) properties, which fix the static shapes the NPU compiles. The defaults are the NPU
plugin's own: ``DEFINE_OPT(NPUW_LLM_MAX_PROMPT_LEN, uint32_t, 1024, ...)`` and
``DEFINE_OPT(NPUW_LLM_MIN_RESPONSE_LEN, uint32_t, 128, ...)`` in openvinotoolkit/openvino,
src/plugins/intel_npu/src/al/include/intel_npu/config/npuw.hpp; both are rounded up to a multiple
of 64 when the NPU compiles (llm_compiled_model.cpp, ``align_to(..., 64u)``).
"""

from __future__ import annotations

NPU_GROUP_SIZE = 128
MAX_PROMPT_LEN = 1024
MIN_RESPONSE_LEN = 128
OV_MODEL = "openvino_model.xml"
OV_TOKENIZER = "openvino_tokenizer.xml"
OV_DETOKENIZER = "openvino_detokenizer.xml"
NPU_CONFIG = "npu_pipeline_config.json"
INTEL_CHIPS = ("intel-core-ultra-meteor-lake",)


def is_ov_llm(folder: object) -> bool:
    """Does this folder hold an OpenVINO GenAI model (model IR + tokenizer IR)?"""
    from pathlib import Path

    path = Path(str(folder))
    return (path / OV_MODEL).is_file() and (path / OV_TOKENIZER).is_file()
