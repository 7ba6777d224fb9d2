"""Make a model smaller: cleanup, INT8 (dynamic/static), INT4, FP16, pruning and Auto.

Each method lives in its own module and declares its parameters (see ``methods`` and
``options``); ``compress_model`` is the one entry point used by the CLI, the GUI and recipes.
"""

from typing import TYPE_CHECKING, Any

from studio.core.compress.methods import METHOD_LABELS, METHODS, Method, MethodInfo, method_params
from studio.core.compress.options import CompressOptions

if TYPE_CHECKING:
    from studio.core.compress.run import SYNTHETIC_WARNING, CompressResult, compress_model

# The running code (onnx, onnxruntime, drift) loads on first use, so the GUI and recipe parsing
# can name methods and options without paying for it at start-up.
_LAZY = {"SYNTHETIC_WARNING", "CompressResult", "compress_model"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from studio.core.compress import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
