"""Sample values that mean something to each input, at the sizes sizes.py chose.

Recurrent state starts at zeros, audio is a tone with a little noise, token ids stay inside the
vocabulary, indices inside the dim they index, lengths match the sequence, masks are ones and
token types zeros. Images and other floats are standard-normal (already-normalised pixels).
"""

from __future__ import annotations

import numpy as np
import onnx

from studio.core.errors import BadInput
from studio.core.messages import Fix, message
from studio.core.model.loader import graph_inputs
from studio.core.samples.graph_facts import GraphFacts, attr_value
from studio.core.samples.roles import INDEX_SLOTS, Role, element_type, input_role
from studio.core.samples.sizes import InputSizes

AUDIO_RATE = 16_000


class SampleMaker:
    """Makes sample inputs for one model at one set of sizes; ``make(seed)`` per sample."""

    def __init__(self, model: onnx.ModelProto, sizes: InputSizes) -> None:
        facts = GraphFacts(model)
        self.sizes = sizes
        self.specs: list[tuple[str, np.dtype, list[int], Role]] = []
        for value in graph_inputs(model):
            dims = sizes.shapes.get(value.name, [])
            self.specs.append((value.name, element_type(value), dims, input_role(value, facts)))
        self.highs: dict[str, int] = {}
        for name, _dtype, _dims, role in self.specs:
            if role == "ids":
                self.highs[name] = facts.embedding_rows(name) or 1
        if any(role == "index" for *_, role in self.specs):
            self.highs.update(_index_bounds(model, facts, sizes))
        self.length = max(
            (
                c.size
                for dims in sizes.inputs.values()
                for c in dims
                if c.kind in ("sequence", "audio")
            ),
            default=1,
        )

    def make(self, seed: int = 0) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        return {
            name: _value(name, dtype, dims, role, rng, self.highs.get(name), self.length)
            for name, dtype, dims, role in self.specs
        }


def _value(
    name: str,
    dtype: np.dtype,
    dims: list[int],
    role: Role,
    rng: np.random.Generator,
    high: int | None,
    length: int,
) -> np.ndarray:
    if role in ("state", "token_type"):
        return np.zeros(dims, dtype)
    if role == "mask":
        return np.ones(dims, dtype)
    if role == "length":
        return np.full(dims, length, dtype)
    if role == "rate":
        return np.full(dims, AUDIO_RATE, dtype)
    if role in ("ids", "index"):
        if high is None or high < 1:
            raise BadInput(msg=message("samples.cannot_make", Fix(action="samples_npz"), name=name))
        return rng.integers(0, high, dims).astype(dtype)
    if role == "audio":
        count = dims[-1] if dims else 1
        tone = rng.uniform(100.0, 1000.0)
        t = np.arange(count) / AUDIO_RATE
        wave = 0.3 * np.sin(2 * np.pi * tone * t) + 0.02 * rng.standard_normal(count)
        return np.broadcast_to(wave, dims).astype(dtype)
    if np.issubdtype(dtype, np.floating):
        return rng.standard_normal(dims).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, dims).astype(np.bool_)
    return rng.integers(0, 10, dims).astype(dtype)


def _index_bounds(model: onnx.ModelProto, facts: GraphFacts, sizes: InputSizes) -> dict[str, int]:
    """For each index input, the size of the dim it indexes (the smallest over its uses),
    read from shape inference at the chosen sizes."""
    proto = onnx.ModelProto()
    proto.CopyFrom(model)
    for value in graph_inputs(proto):
        if value.name in sizes.shapes:
            shape = value.type.tensor_type.shape
            shape.ClearField("dim")
            for size in sizes.shapes[value.name]:
                shape.dim.add().dim_value = size
    try:
        inferred = onnx.shape_inference.infer_shapes(proto, strict_mode=False, data_prop=True)
    except Exception:  # onnx raises several types for graphs it cannot follow
        inferred = proto
    known = {
        v.name: [
            d.dim_value if d.HasField("dim_value") else 0 for d in v.type.tensor_type.shape.dim
        ]
        for v in [*inferred.graph.value_info, *inferred.graph.input]
    }
    known.update(facts.const_dims)
    found: dict[str, list[int]] = {}
    for value in graph_inputs(model):
        for node, slot in facts.uses(value.name):
            if INDEX_SLOTS.get(node.op_type) != slot:
                continue
            data = known.get(node.input[0], [])
            axis = int(attr_value(node, "axis", 0))
            size = data[axis] if -len(data) <= axis < len(data) else 0
            found.setdefault(value.name, [])
            if size > 0:
                found[value.name].append(size)
    # An index with no known bound gets 0, which asks for real samples when used.
    return {name: min(sizes_, default=0) for name, sizes_ in found.items()}
