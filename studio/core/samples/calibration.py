"""Sample inputs for calibration, evaluation and demo runs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx

if TYPE_CHECKING:  # options imports calibration: a type only here
    from studio.core.compress.options import ImageSettings

from studio.core.errors import BadInput
from studio.core.messages import Fix, Message, message
from studio.core.model.loader import graph_inputs
from studio.core.samples.sizes import InputSizes, choose_sizes
from studio.core.samples.synthetic import SampleMaker

log = logging.getLogger("studio")


def input_specs(
    model: onnx.ModelProto, shapes: dict[str, list[int]] | None = None
) -> list[tuple[str, np.dtype, list[int]]]:
    """Each real input with a concrete shape: user-given, else the size choose_sizes picks."""
    chosen = choose_sizes(model, shapes).shapes
    return [
        (
            value.name,
            np.dtype(onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)),
            chosen[value.name],
        )
        for value in graph_inputs(model)
    ]


def synthetic_inputs(
    model: onnx.ModelProto,
    shapes: dict[str, list[int]] | None = None,
    seed: int = 0,
    sizes: InputSizes | None = None,
) -> dict[str, np.ndarray]:
    """One made-up sample at ``sizes`` (default: the sizes choose_sizes picks)."""
    return SampleMaker(model, sizes or choose_sizes(model, shapes)).make(seed)


def synthetic_samples(
    model: onnx.ModelProto, sizes: InputSizes, count: int, first_seed: int = 0
) -> list[dict[str, np.ndarray]]:
    maker = SampleMaker(model, sizes)
    return [maker.make(first_seed + i) for i in range(count)]


def static_dims(model: onnx.ModelProto, name: str) -> list[int | None]:
    for value in graph_inputs(model):
        if value.name == name:
            return [
                d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
                for d in value.type.tensor_type.shape.dim
            ]
    raise KeyError(name)


def _missing(path: Path, key: str | None) -> Message:
    """A sample path that does not exist; the fix names the option it was given with."""
    option = "eval" if key == "evaluation" else "calib"
    return message("samples.missing", Fix(option=option), path=str(path))


def load_arrays(
    path: str | Path, model: onnx.ModelProto, key: str | None = None, limit: int | None = None
) -> list[dict[str, np.ndarray]]:
    """Load samples from .npz/.npy: one dict of inputs per sample (first axis = samples).

    A .npz whose keys are the model's input names feeds each input; otherwise ``key`` (or the
    first array) feeds the model's single input.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise BadInput(msg=_missing(path, key))
    names = [value.name for value in graph_inputs(model)]
    try:
        if path.suffix == ".npy":
            arrays = {names[0]: np.load(path, allow_pickle=False)}
        elif path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as data:
                if all(n in data.files for n in names):
                    arrays = {n: data[n] for n in names}
                elif key is not None and key in data.files:
                    arrays = {names[0]: data[key]}
                elif data.files:
                    arrays = {names[0]: data[data.files[0]]}
                else:
                    arrays = {}
        else:
            raise BadInput(
                f"{path.name} is not a .npy or .npz file",
                "Give an image folder, a prompts .txt, or .npz/.npy arrays",
            )
    except (ValueError, OSError) as exc:
        raise BadInput(
            f"Could not read calibration data {path.name} ({exc})", "Save it with numpy.savez"
        ) from exc
    if not arrays or any(len(a) == 0 for a in arrays.values()):
        raise BadInput(f"Calibration data {path.name} holds no samples", "Add at least one sample")
    if len(names) > 1 and set(arrays) != set(names):
        raise BadInput(
            f"{path.name} must hold one array per model input ({', '.join(names)})",
            "Save the arrays under the input names with numpy.savez",
        )
    count = min(len(a) for a in arrays.values())
    if limit is not None:
        count = min(count, limit)
    # Only the dtypes and ranks matter here: the samples bring their own sizes.
    specs = {
        value.name: (
            np.dtype(onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)),
            value.type.tensor_type.shape.dim,
        )
        for value in graph_inputs(model)
    }
    samples = []
    for index in range(count):
        sample = {}
        for name, array in arrays.items():
            dtype, dims = specs[name]
            # (count, *input shape) holds whole samples (needed when batch is not the first
            # axis, or for scalar inputs); (count, *shape without batch) uses count as batch.
            whole = array.ndim == len(dims) + 1
            item = np.asarray(array[index] if whole else array[index : index + 1]).astype(dtype)
            if item.ndim != len(dims):
                raise BadInput(
                    f"Sample shape {list(item.shape)} in {path.name} does not match input "
                    f"'{name}' with {len(dims)} dimensions",
                    "Save samples as an array of shape (count, …input shape without batch)",
                )
            fixed = static_dims(model, name)
            for axis, (got, want) in enumerate(zip(item.shape, fixed, strict=True)):
                if want is not None and (axis > 0 or whole) and got != want:
                    raise BadInput(
                        f"Sample shape {list(item.shape[1:])} in {path.name} does not match input "
                        f"'{name}' ({'×'.join('?' if d is None else str(d) for d in fixed[1:])})",
                        "Resize the samples to the model's input shape",
                    )
            sample[name] = item
        samples.append(sample)
    return samples


def iterate_batches(samples: list[dict[str, np.ndarray]]) -> Iterator[dict[str, np.ndarray]]:
    yield from samples


TEXT_SUFFIXES = {".txt", ".jsonl"}


def load_samples(
    path: str | Path,
    model: onnx.ModelProto,
    *,
    model_path: Path,
    limit: int,
    image: ImageSettings | None = None,
    shapes: dict[str, list[int]] | None = None,
    warnings: list[str] | None = None,
    key: str | None = None,
) -> list[dict[str, np.ndarray]]:
    """Samples from an image folder, a prompts file (.txt/.jsonl) or arrays (.npz/.npy).

    ``key`` picks one array of a single-input .npz (e.g. "calibration" or "evaluation").
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise BadInput(msg=_missing(path, key))
    if path.is_dir():
        from studio.core.compress.options import ImageSettings
        from studio.core.samples.images import load_image_folder

        return load_image_folder(path, model, image or ImageSettings(), limit, shapes, warnings)
    if path.suffix.lower() in TEXT_SUFFIXES:
        from studio.core.samples.text import load_prompts

        return load_prompts(path, model, model_path, limit)
    return load_arrays(path, model, key=key, limit=limit)


def npz_labels(path: str | Path | None, key: str = "evaluation_labels") -> list[int] | None:
    """Ground-truth class labels stored beside evaluation samples, if the file has them."""
    if path is None or Path(path).suffix != ".npz" or not Path(path).is_file():
        return None
    with np.load(Path(path), allow_pickle=False) as data:
        if key in data.files:
            return [int(v) for v in np.asarray(data[key]).ravel()]
    return None


def npz_has(path: str | Path | None, key: str) -> bool:
    if path is None or Path(path).suffix != ".npz" or not Path(path).is_file():
        return False
    with np.load(Path(path), allow_pickle=False) as data:
        return key in data.files
