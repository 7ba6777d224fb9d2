"""The compression methods' ids: an enum with no other imports, so the CLI's parser can list
them without loading pydantic or onnx."""

from __future__ import annotations

import enum


class Method(enum.StrEnum):
    CLEANUP = "cleanup"
    INT8_DYNAMIC = "int8-dynamic"
    INT8_STATIC = "int8-static"
    INT4 = "int4"
    FP16 = "fp16"
    PRUNE = "prune"
    PRUNE_CHANNELS = "prune-channels"
    AUTO = "auto"
