"""One English template per message id (see studio/core/messages/__init__.py for the format).

The GUI's Chinese templates are in assets/translations/messages/zh_CN.json, keyed by the same ids;
tests/test_messages.py checks that every id here has one with the same fields.
"""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    # studio/core/compress/run.py and analyze/drift.py: warnings in a compress result.
    "compress.random_calibration": (
        "No calibration data given: calibrating on RANDOM inputs. Accuracy after INT8 may be "
        "poor; {fix} with 10–100 real samples (image folder, prompts .txt or .npz)."
    ),
    "drift.random_inputs": (
        "Drift was measured on random inputs, which says little about real accuracy; {fix} with "
        "real samples."
    ),
    "drift.slower": (
        "The compressed model is SLOWER than the original on this PC ({after} ms vs {before} "
        "ms). Pick another method for this chip (INT8 convolutions without VNNI and FP16 on a "
        "CPU are common causes)."
    ),
    "drift.slower_not_target": (
        "On this PC's CPU the result is slower ({after} ms vs {before} ms). This PC is not the "
        "target chip ({chip}), so this says little about speed there; check it on the device."
    ),
    # studio/core/analyze/drift.py: drift_verdict_message(), the drift verdict.
    "drift.match": "Outputs match the original closely: cosine {cosine}",
    "drift.match_top1": (
        "Outputs match the original closely: cosine {cosine}, top-1 agreement {top1}%"
    ),
    "drift.close": "Outputs stay close to the original: cosine {cosine}",
    "drift.close_top1": "Outputs stay close to the original: cosine {cosine}, top-1 agreement {top1}%",
    "drift.noticeable": (
        "Outputs drift noticeably: cosine {cosine}. Check accuracy on your own data, or keep the "
        "worst layers in float"
    ),
    "drift.noticeable_top1": (
        "Outputs drift noticeably: cosine {cosine}, top-1 agreement {top1}%. Check accuracy on "
        "your own data, or keep the worst layers in float"
    ),
    "drift.large": (
        "Outputs changed a lot: cosine {cosine}. Keep the worst layers in float or choose a "
        "milder method"
    ),
    "drift.large_top1": (
        "Outputs changed a lot: cosine {cosine}, top-1 agreement {top1}%. Keep the worst layers in "
        "float or choose a milder method"
    ),
}

# Actions a Fix can name, as the CLI words them ({input}, {example} from the Fix).
ACTIONS: dict[str, str] = {}
