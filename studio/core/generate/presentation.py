"""Booth presentation: preset prompts in Chinese and English and an endless, leak-free loop."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from pydantic import BaseModel

from studio.core.generate.settings import GenerationSettings


class PresetPrompt(BaseModel):
    label: str
    """What the big button says."""
    prompt: str
    language: str


# The demo model learned the King James Bible and Tang/Song poems, so these prompts lead it into
# text it writes well; they work with any other model too.
PRESETS: list[PresetPrompt] = [
    PresetPrompt(label="床前明月光", prompt="《夜思》 李白\n床前明月光，", language="zh"),
    PresetPrompt(label="白日依山尽", prompt="《登鹳雀楼》 王之涣\n白日依山尽，", language="zh"),
    PresetPrompt(label="春眠不觉晓", prompt="《春晓》 孟浩然\n春眠不觉晓，", language="zh"),
    PresetPrompt(label="In the beginning", prompt="In the beginning", language="en"),
    PresetPrompt(label="The LORD is my shepherd", prompt="The LORD is my shepherd;", language="en"),
    PresetPrompt(label="And Jesus said", prompt="And Jesus said unto them,", language="en"),
]

PRESENTATION_SETTINGS = GenerationSettings(
    max_new_tokens=96, temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.1
)


def presentation_cycle(presets: list[PresetPrompt] | None = None) -> Iterator[PresetPrompt]:
    """The auto-loop's prompts, round and round, forever."""
    return itertools.cycle(presets or PRESETS)


def run_presentation_loop(
    model: str | None,
    prompts: int,
    settings: GenerationSettings | None = None,
    on_summary: Callable[[int, object], None] | None = None,
) -> None:
    """Generate ``prompts`` answers back to back in this process (benchmark of memory growth).

    Only the summary of each answer is kept, so nothing grows with the number of prompts.
    """
    from studio.core.generate.session import GenerationSummary, generate_stream

    cycle = presentation_cycle()
    for index in range(prompts):
        preset = next(cycle)
        for event in generate_stream(model, preset.prompt, settings or PRESENTATION_SETTINGS):
            if isinstance(event, GenerationSummary) and on_summary is not None:
                on_summary(index, event)
