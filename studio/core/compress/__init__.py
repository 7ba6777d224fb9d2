"""Make a model smaller: cleanup, INT8 (dynamic/static), INT4, FP16, pruning and Auto.

Each method lives in its own module and declares its parameters (see ``methods`` and
``options``); ``compress_model`` is the one entry point used by the CLI, the GUI and recipes.
"""

from studio.core.compress.methods import METHOD_LABELS, METHODS, Method, MethodInfo, method_params
from studio.core.compress.options import CompressOptions
from studio.core.compress.run import SYNTHETIC_WARNING, CompressResult, compress_model

__all__ = [
    "METHODS",
    "METHOD_LABELS",
    "SYNTHETIC_WARNING",
    "CompressOptions",
    "CompressResult",
    "Method",
    "MethodInfo",
    "compress_model",
    "method_params",
]
