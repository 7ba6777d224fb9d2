"""When a compressed model's outputs count as "close" to the original: one rule for the GUI's
verdict and the CLI's `--method auto`, which used to disagree (the GUI called top-1 agreement
87.5% close while auto rejected the same method)."""

from __future__ import annotations

CLOSE_COSINE = 0.99
"""Lowest cosine between original and compressed outputs that counts as close."""
CLOSE_TOP1 = 0.99
"""Lowest share of samples whose top class stays the same (classifiers) that counts as close."""


def is_close(
    cosine: float,
    top1: float | None,
    min_cosine: float = CLOSE_COSINE,
    min_top1: float = CLOSE_TOP1,
) -> bool:
    """Cosine at or above ``min_cosine`` and, where there is a top class, top-1 agreement at or
    above ``min_top1``."""
    return cosine >= min_cosine and (top1 is None or top1 >= min_top1)
