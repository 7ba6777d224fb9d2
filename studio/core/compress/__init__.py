"""Make a model smaller: cleanup, INT8 (dynamic/static), INT4, FP16, pruning and Auto.

Each method lives in its own module and declares its parameters (see ``methods`` and
``options``); ``compress_model`` is the one entry point used by the CLI, the GUI and recipes.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from studio.core.compress.method_ids import Method

if TYPE_CHECKING:
    from studio.core.compress.methods import METHOD_LABELS, METHODS, MethodInfo, method_params
    from studio.core.compress.options import CompressOptions
    from studio.core.compress.run import SYNTHETIC_WARNING, CompressResult, compress_model

# Every other name loads on first use: the CLI's parser needs only the method ids, the GUI and
# recipe parsing the declarations (pydantic), and only a running job onnx and onnxruntime.
_LAZY = {
    "METHODS": "methods",
    "METHOD_LABELS": "methods",
    "MethodInfo": "methods",
    "method_params": "methods",
    "CompressOptions": "options",
    "SYNTHETIC_WARNING": "run",
    "CompressResult": "run",
    "compress_model": "run",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"studio.core.compress.{_LAZY[name]}"), name)
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
