"""Turn a folder of images into model inputs, with the recipe's resize/normalise/layout settings."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx

from studio.core.compress.options import ImageSettings
from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import graph_inputs

log = logging.getLogger("studio")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"}


def image_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _image_input(model: onnx.ModelProto, folder: Path) -> onnx.ValueInfoProto:
    inputs = graph_inputs(model)
    images = [v for v in inputs if len(v.type.tensor_type.shape.dim) == 4]
    if len(inputs) != 1 or not images:
        names = ", ".join(f"'{v.name}'" for v in inputs)
        raise BadInput(
            f"An image folder ({folder.name}) can only feed a model with one 4-D image input; "
            f"this model takes {names}",
            "Give the samples as a .npz with one array per input name",
        )
    return images[0]


def _layout_and_size(
    value: onnx.ValueInfoProto, settings: ImageSettings, shapes: dict[str, list[int]]
) -> tuple[str, int, int, int]:
    dims = [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
        for d in value.type.tensor_type.shape.dim
    ]
    if value.name in shapes:
        dims = list(shapes[value.name])
    layout = settings.layout
    if layout is None:
        layout = "NHWC" if dims[3] in (1, 3, 4) and dims[1] not in (1, 3, 4) else "NCHW"
    channels, height, width = (
        (dims[1], dims[2], dims[3]) if layout == "NCHW" else (dims[3], dims[1], dims[2])
    )
    if settings.size:
        if len(settings.size) != 2:
            raise BadInput("image.size must be [height, width]", "Write it like [224, 224]")
        height, width = settings.size
    if height is None or width is None:
        raise BadInput(
            msg=message(
                "samples.dynamic_image",
                Fix(action="image_size_or_shape", example=f"{value.name}=1x3x224x224"),
                name=value.name,
            )
        )
    for axis, (want, got) in (
        (2, (height, dims[2] if layout == "NCHW" else dims[1])),
        (3, (width, dims[3] if layout == "NCHW" else dims[2])),
    ):
        if got is not None and got != want:
            raise BadInput(
                f"image.size {height}×{width} does not match input '{value.name}', "
                f"whose axis {axis} is fixed at {got}",
                "Leave image.size empty to use the model's own size",
            )
    channels = channels or (1 if settings.color == "GRAY" else 3)
    return layout, channels, height, width


def load_image_folder(
    folder: Path,
    model: onnx.ModelProto,
    settings: ImageSettings,
    limit: int,
    shapes: dict[str, list[int]] | None = None,
    warnings: list[str] | None = None,
) -> list[dict[str, np.ndarray]]:
    from PIL import Image, UnidentifiedImageError

    files = image_files(folder)
    if not files:
        raise BadInput(
            f"The calibration folder {folder} holds no images",
            f"Add .jpg or .png files ({', '.join(sorted(IMAGE_SUFFIXES))})",
        )
    value = _image_input(model, folder)
    shapes = dict(shapes or {})
    if value.name not in shapes and not settings.size:
        # A flexible image size gets the size the studio measures at (samples/sizes.py).
        from studio.core.samples.sizes import choose_sizes

        shapes[value.name] = choose_sizes(model, shapes).shapes[value.name]
    layout, channels, height, width = _layout_and_size(value, settings, shapes)
    mode = "L" if channels == 1 else "RGB"
    mean = np.asarray(settings.mean[:channels] or [0.0], dtype=np.float32)
    std = np.asarray(settings.std[:channels] or [1.0], dtype=np.float32)
    if np.any(std == 0):
        raise BadInput(
            "image.std holds a zero", "Use the per-channel std the model was trained with"
        )
    elem = value.type.tensor_type.elem_type
    dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem))
    samples: list[dict[str, np.ndarray]] = []
    skipped: list[str] = []
    for path in files:
        if len(samples) >= limit:
            break
        try:
            with Image.open(path) as image:
                pixels = image.convert(mode).resize((width, height), Image.Resampling.BILINEAR)
                array = np.asarray(pixels, dtype=np.float32)
        except (UnidentifiedImageError, OSError) as exc:
            skipped.append(path.name)
            log.info("skipped %s: %s", path.name, exc)
            continue
        if array.ndim == 2:
            array = array[:, :, None]
        if settings.color == "BGR" and channels == 3:
            array = array[:, :, ::-1]
        array = (array * settings.scale - mean) / std
        if layout == "NCHW":
            array = array.transpose(2, 0, 1)
        samples.append({value.name: np.ascontiguousarray(array[None]).astype(dtype)})
    if skipped and warnings is not None:
        warnings.append(
            f"Skipped {len(skipped)} unreadable image(s) in {folder.name}: {', '.join(skipped[:5])}"
        )
    if not samples:
        raise BadInput(f"None of the images in {folder} could be read", "Check the files open")
    return samples
