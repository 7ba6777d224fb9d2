"""Generation settings and export precisions, with safe defaults and bounds."""

from __future__ import annotations

import enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from studio.core.errors import BadInput

SETTINGS_VERSION = 1


class Precision(enum.StrEnum):
    INT4 = "int4"
    INT8 = "int8"
    FP16 = "fp16"
    FP32 = "fp32"


def parse_precision(value: Precision | str) -> Precision:
    """The precision a user named, or a one-line error listing the ones there are."""
    try:
        return Precision(value)
    except ValueError as exc:
        raise BadInput(
            f"Unknown precision '{value}'", "Use one of: " + ", ".join(p.value for p in Precision)
        ) from exc


PRECISION_HELP = {
    Precision.INT4: "Smallest and fastest: weights in 4 bits (about 6× smaller than FP32)",
    Precision.INT8: "Small and close to the original: weights in 8 bits (about 3.5× smaller)",
    Precision.FP16: "Half-size floating point; best on GPUs, slow on most CPUs",
    Precision.FP32: "The original numbers; largest, the reference for accuracy",
}


class GenerationSettings(BaseModel):
    """What the user can tune. Defaults give fluent text without runaway length or repetition."""

    model_config = ConfigDict(extra="forbid")
    version: int = SETTINGS_VERSION
    max_new_tokens: int = Field(128, ge=1, le=4096, description="Longest answer, in tokens")
    temperature: float = Field(
        0.7, ge=0.0, le=2.0, description="Randomness: 0 always picks the likeliest token"
    )
    top_p: float = Field(
        0.9,
        gt=0.0,
        le=1.0,
        description="Sample only from the likeliest tokens whose probabilities add up to this",
    )
    top_k: int = Field(40, ge=1, le=1000, description="Sample only from this many likeliest tokens")
    repetition_penalty: float = Field(
        1.1, ge=1.0, le=2.0, description="Above 1 makes repeating text less likely"
    )
    seed: int | None = Field(
        None,
        ge=0,
        le=2**31 - 1,
        description="The same seed, prompt and settings give the same answer; "
        "empty: a different answer each time",
    )

    def runner_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of llm_runner.stream_generation."""
        return self.model_dump(exclude={"version"})

    def sampling(self) -> dict[str, float | int]:
        """What the device runner's ``generate`` takes besides the prompt and the token limit."""
        return self.model_dump(exclude={"version", "max_new_tokens"}, exclude_none=True)
