"""Choose a real size for every flexible input dim, and keep where each size came from.

In order: the user's --shape, the user's samples, the model's metadata and dim names, its
structure (total stride), then the typical size of its family (224 for image classifiers, 640
for detectors and segmenters, 48×320 text lines, 128 tokens, 512 audio samples). Batch is 1. A
spatial or sequence dim is never set to 1 without the reason saying so.
"""

from __future__ import annotations

import math
import re
from typing import Literal

import numpy as np
import onnx
from pydantic import BaseModel

from studio.core.model.loader import graph_inputs
from studio.core.samples.graph_facts import GraphFacts
from studio.core.samples.roles import input_role

Kind = Literal["fixed", "given", "batch", "spatial", "sequence", "audio", "other"]
CLASSIFIER_SIZE, DENSE_SIZE, SECOND_SIZE = 224, 640, 320
TEXT_LINE = (48, 320)
SEQUENCE, AUDIO_SAMPLES = 128, 512
_BATCH = {"batch", "batch_size", "n", "b", "bs", "batchsize", "num_batches", "unk__batch"}
_GRAPH = ("node", "edge", "atom", "vert")
_SEQ = re.compile(r"seq|token|length|len$|^len|time|frame|step")
_IMAGE_KEYS = ("imgsz", "image_size", "img_size", "input_size", "resolution", "size")
_SEQ_KEYS = ("max_seq_length", "max_sequence_length", "sequence_length", "max_length")
_MASKLIKE = ("mask", "token_type", "segment", "length", "len")
_KV = ("past", "cache", "present")
FIXED = "fixed by the model"
SAMPLES = "your samples"
DECODE_STEP = "one decode step of a language model (1 token, 1 cached position)"


class DimChoice(BaseModel):
    size: int
    kind: Kind
    source: str
    typical: bool = False
    """Chosen from the family's typical sizes (a second size may be tried)."""
    multiple: int = 1
    """The size must be a multiple of this (the model's total stride on this axis)."""


class InputSizes(BaseModel):
    inputs: dict[str, list[DimChoice]]

    @property
    def shapes(self) -> dict[str, list[int]]:
        return {name: [c.size for c in dims] for name, dims in self.inputs.items()}

    def text(self) -> str:
        """ "measured at 1×3×640×640"; with several inputs each is named."""
        parts = {n: "×".join(str(s) for s in dims) or "scalar" for n, dims in self.shapes.items()}
        if len(parts) == 1:
            return f"measured at {next(iter(parts.values()))}"
        return "measured at " + ", ".join(f"{n} {p}" for n, p in parts.items())

    def source_text(self) -> str:
        """Why the flexible sizes are what they are, once per distinct reason."""
        reasons = [c.source for dims in self.inputs.values() for c in dims if c.source != FIXED]
        return "; ".join(dict.fromkeys(reasons)) or "the model's own fixed sizes"

    def second(self) -> InputSizes | None:
        """The same inputs at a second typical spatial size, when the first was a guess."""
        guessed = [c for dims in self.inputs.values() for c in dims if c.typical]
        if not any(c.kind == "spatial" for c in guessed):
            return None
        inputs = {}
        for name, dims in self.inputs.items():
            new = []
            for c in dims:
                if c.typical and c.kind == "spatial":
                    other = SECOND_SIZE if c.size != SECOND_SIZE else DENSE_SIZE
                    size = _round_up(other, c.multiple)
                    c = c.model_copy(update={"size": size, "source": "second typical size"})
                new.append(c)
            inputs[name] = new
        return InputSizes(inputs=inputs)


def _round_up(size: int, multiple: int) -> int:
    return max(multiple, math.ceil(size / multiple) * multiple)


def _dim(d: onnx.TensorShapeProto.Dimension) -> int | str:
    if d.HasField("dim_value") and d.dim_value > 0:
        return int(d.dim_value)
    return d.dim_param if d.HasField("dim_param") else ""


def _meta_ints(metadata: dict[str, str], keys: tuple[str, ...]) -> tuple[str, list[int]] | None:
    for key in keys:
        if key in metadata:
            numbers = [int(n) for n in re.findall(r"\d+", metadata[key]) if int(n) > 1]
            if numbers:
                return key, numbers
    return None


def choose_sizes(
    model: onnx.ModelProto,
    shapes: dict[str, list[int]] | None = None,
    samples: list[dict[str, np.ndarray]] | None = None,
) -> InputSizes:
    """A size for every dim of every real input, and where it came from."""
    facts = GraphFacts(model)
    shapes = shapes or {}
    first = samples[0] if samples else {}
    values = graph_inputs(model)
    # Masks and lengths follow the sequence the ids chose, so they come last.
    values.sort(key=lambda v: any(k in v.name.lower() for k in _MASKLIKE))
    chooser = _Chooser(facts)
    inputs: dict[str, list[DimChoice]] = {}
    for value in values:
        dims = [_dim(d) for d in value.type.tensor_type.shape.dim]
        given = shapes.get(value.name)
        if given is None and value.name in first:
            given, why = list(np.shape(first[value.name])), SAMPLES
        else:
            why = "your --shape"
        guessed = chooser.input(value, dims)
        if given is not None and len(given) == len(dims):
            # The guess still tells what each dim is (a length input follows a given sequence).
            inputs[value.name] = [
                c
                if c.source == FIXED and why == SAMPLES
                else DimChoice(size=s, kind=c.kind, source=why)
                for s, c in zip(map(int, given), guessed, strict=True)
            ]
            chooser.remember(dims, inputs[value.name], replace=True)
        else:
            inputs[value.name] = guessed
    return InputSizes(inputs={v.name: inputs[v.name] for v in graph_inputs(model)})


class _Chooser:
    def __init__(self, facts: GraphFacts) -> None:
        self.facts = facts
        self.named: dict[str, DimChoice] = {}  # dim_param → choice: shared names agree
        self.sequence: DimChoice | None = None
        names = [v.name.lower() for v in graph_inputs(facts.model)]
        # A decoder with a KV cache: its flexible sizes are one step (the LLM path sizes the
        # prompt and the cache itself from --context).
        self.decoder = any(k in n for n in names for k in _KV)

    def remember(
        self, dims: list[int | str], choices: list[DimChoice], replace: bool = False
    ) -> None:
        for d, c in zip(dims, choices, strict=True):
            if isinstance(d, str) and d and (replace or d not in self.named):
                self.named[d] = c
            if replace and c.kind == "sequence":
                self.sequence = c

    def input(self, value: onnx.ValueInfoProto, dims: list[int | str]) -> list[DimChoice]:
        role = input_role(value, self.facts)
        image = self._image(value, dims) if role == "image" else {}
        choices = []
        for axis, d in enumerate(dims):
            if isinstance(d, int):
                choice = DimChoice(size=d, kind="fixed", source=FIXED)
            elif d and d in self.named:
                choice = self.named[d]
            elif axis in image:
                choice = image[axis]
            else:
                choice = self._guess(value, axis, d, role, dims)
            choices.append(choice)
        self.remember(dims, choices)
        return choices

    def _guess(
        self, value: onnx.ValueInfoProto, axis: int, name: str, role: str, dims: list[int | str]
    ) -> DimChoice:
        lower = name.lower()
        last = axis == len(dims) - 1
        if any(k in lower for k in _GRAPH):
            return DimChoice(size=16, kind="other", source=f"16 graph items ({name})")
        if lower in _BATCH:
            return DimChoice(size=1, kind="batch", source="batch 1")
        if lower and _SEQ.search(lower) and role not in ("audio", "state"):
            return self._sequence()  # e.g. a time-major [seq, batch, features] input
        if axis == 0 and len(dims) > 1 and not (role == "audio" and last):
            return DimChoice(size=1, kind="batch", source="batch 1")
        if role == "audio" and last:
            need = self.facts.padding_need(value.name)
            size = max(AUDIO_SAMPLES, need)
            why = "512 audio samples (32 ms at 16 kHz)"
            if size > AUDIO_SAMPLES:
                why = f"{size} audio samples, the least the model's padding and frames accept"
            return DimChoice(size=size, kind="audio", source=why)
        if role == "state" and self.decoder:
            return self._sequence()
        if role == "state":
            return DimChoice(size=1, kind="batch", source="batch 1")
        if _SEQ.search(lower) or role in ("ids", "mask", "token_type", "index") or len(dims) == 3:
            return self._sequence()
        return DimChoice(
            size=1,
            kind="other",
            source=f"axis {axis} of '{value.name}' has no known meaning: set to 1 "
            f"(give --shape {value.name}=… for a real size)",
        )

    def _sequence(self) -> DimChoice:
        if self.sequence is None and self.decoder:
            self.sequence = DimChoice(size=1, kind="sequence", source=DECODE_STEP)
        if self.sequence is None:
            size, why = SEQUENCE, f"typical text length {SEQUENCE}"
            meta = _meta_ints(self.facts.metadata, _SEQ_KEYS)
            if meta and meta[1][0] < size:
                size, why = meta[1][0], f"the model's metadata ({meta[0]})"
            rows = sorted(self.facts.table_rows())
            # The smaller tables beside the vocabulary are positions (2-row ones: token types).
            positions = [r for r in rows[:-1] if r >= 16]
            if positions and positions[0] < size:
                size, why = positions[0], f"the model's position table ({positions[0]} rows)"
            self.sequence = DimChoice(size=size, kind="sequence", source=why)
        return self.sequence

    def _image(self, value: onnx.ValueInfoProto, dims: list[int | str]) -> dict[int, DimChoice]:
        """Height and width of an image input (NCHW, or NHWC when the channels sit last)."""
        nhwc = dims[3] in (1, 3, 4) and dims[1] not in (1, 3, 4)
        axes = (1, 2) if nhwc else (2, 3)
        stride_h, stride_w = self.facts.strides(value.name)
        fixed = [d if isinstance(d, int) else None for d in (dims[axes[0]], dims[axes[1]])]
        meta = _meta_ints(self.facts.metadata, _IMAGE_KEYS)
        typical = (False, False)
        if meta:
            sizes = (meta[1][0], meta[1][-1])
            why = f"the model's metadata ({meta[0]})"
        elif stride_h > stride_w or (fixed[0] is not None and fixed[0] <= 64 and not fixed[1]):
            # Recognisers shrink the height much more than the width: a line of text.
            sizes, why = TEXT_LINE, "typical text-line size for a recogniser"
            typical = (False, True)  # the height is the recogniser's; only the width varies
        elif any(fixed):
            side = next(f for f in fixed if f)
            sizes, why = (side, side), "the same as its other side"
        elif max(self.facts.output_ranks(), default=2) >= 3:
            sizes, why = (DENSE_SIZE,) * 2, "typical size for a detector or segmenter"
            typical = (True, True)
        else:
            sizes, why = (CLASSIFIER_SIZE,) * 2, "typical size for an image classifier"
            typical = (True, True)
        out: dict[int, DimChoice] = {}
        for axis, size, stride, known, guess in zip(
            axes, sizes, (stride_h, stride_w), fixed, typical, strict=True
        ):
            if known is not None:
                continue
            reason = why + (f", a multiple of its total stride {stride}" if stride > 1 else "")
            out[axis] = DimChoice(
                size=_round_up(size, stride),
                kind="spatial",
                source=reason,
                typical=guess,
                multiple=stride,
            )
        return out
