"""What each model input is for, read from its name, type and the nodes that consume it."""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import onnx

from studio.core.samples.graph_facts import GraphFacts

Role = Literal[
    "image", "audio", "ids", "index", "mask", "token_type", "length", "state", "rate", "other"
]
# Recurrent state: h/c of an LSTM, "state" of silero VAD, caches. "hidden_states" is an
# encoder's activations, not a state to zero.
_STATE = re.compile(r"(^|[_./])(h|c|h0|c0|hn|cn|hx|cx|hidden|state|states)\d*([_./]|$)|past|cache")
_LENGTH = re.compile(r"(^|_)(length|lengths|len|lens|seq_len|seq_lens)($|_)")
_RATE = {"sr", "sample_rate", "sampling_rate"}
# Consumers whose input ``slot`` holds positions along an axis of another tensor.
INDEX_SLOTS = {
    "Gather": 1,
    "GatherElements": 1,
    "GatherND": 1,
    "ScatterElements": 1,
    "ScatterND": 1,
    "Scatter": 1,
}
# Recurrent ops' initial hidden/cell state slots (ONNX LSTM: X, W, R, B, sequence_lens, initial_h,
# initial_c, P; GRU and RNN: ... initial_h), and their sequence_lens slot.
_STATE_SLOTS = {"LSTM": (5, 6), "GRU": (5,), "RNN": (5,)}
_SEQUENCE_LENS_SLOT = 4


def element_type(value: onnx.ValueInfoProto) -> np.dtype:
    return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type))


def input_role(value: onnx.ValueInfoProto, facts: GraphFacts) -> Role:
    name = value.name.lower()
    dtype = element_type(value)
    rank = len(value.type.tensor_type.shape.dim)
    floating = np.issubdtype(dtype, np.floating)
    integer = np.issubdtype(dtype, np.integer)
    uses = facts.uses(value.name)
    if floating and _STATE.search(name) and "hidden_states" not in name:
        return "state"
    if floating and any(slot in _STATE_SLOTS.get(node.op_type, ()) for node, slot in uses):
        return "state"  # by structure, whatever its name: it starts a recurrent layer
    if integer and any(
        node.op_type in _STATE_SLOTS and slot == _SEQUENCE_LENS_SLOT for node, slot in uses
    ):
        return "length"
    if "mask" in name:
        return "mask"
    if "token_type" in name or "segment" in name:
        return "token_type"
    if integer and _LENGTH.search(name):
        return "length"
    if integer and name in _RATE:
        return "rate"
    if integer and facts.embedding_rows(value.name) is not None:
        return "ids"
    if (integer or dtype == np.bool_) and any(
        INDEX_SLOTS.get(node.op_type) == slot for node, slot in uses
    ):
        return "index"
    if floating and rank == 4:
        return "image"
    if floating and _audio_like(value):
        return "audio"
    return "other"


def _audio_like(value: onnx.ValueInfoProto) -> bool:
    """A waveform: [samples], [batch, samples] or [batch, 1, samples], the length flexible."""
    dims = value.type.tensor_type.shape.dim
    if not dims or dims[-1].HasField("dim_value"):
        return False
    return len(dims) <= 2 or (len(dims) == 3 and dims[1].dim_value == 1)
