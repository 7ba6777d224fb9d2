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
    # studio/core/chips/verdict.py: the chip verdict, read part after part.
    "chip.runs_on": "Runs on the {unit}",
    "chip.runs_fully_on": "Runs fully on the {unit}",
    "chip.wont_fit": "Won't fit: needs {needed}, chip has {capacity}",
    "chip.mostly_cpu.one": "Mostly on the CPU: {count} op falls back ({share} of compute)",
    "chip.mostly_cpu.other": "Mostly on the CPU: {count} ops fall back ({share} of compute)",
    "chip.some_fall_back.one": "Runs, {count} op falls back to the CPU ({share} of compute)",
    "chip.some_fall_back.other": "Runs, {count} ops fall back to the CPU ({share} of compute)",
    "chip.once.shapes": " once its input sizes are fixed",
    "chip.once.quantized": " once it is quantized",
    "chip.once.float32": " once it is exported in float32",
    "chip.and.quantized": " and it is quantized",
    "chip.and.float32": " and it is exported in float32",
    "chip.memory_tight": "; memory is tight ({needed} of {capacity})",
    # studio/core/analyze/profile.py: overhead_message(), under the Inspect step's headline.
    "profile.overhead_more": (
        "The per-layer times add up to {total} ms, {extra}% more than the real {real} ms, "
        "because the profiler stops the clock around every layer; use them to see which layers "
        "matter, and the end-to-end figure for speed."
    ),
    "profile.overhead_less": (
        "The per-layer times add up to {total} ms, less than the real {real} ms, because they "
        "leave out the work between layers (copying inputs and outputs, scheduling); use them to "
        "see which layers matter."
    ),
    # studio/core/samples/calibration.py: a sample path that is not there.
    "samples.missing": "Sample data {path} does not exist. Check it, or {fix} with another path.",
    # studio/core/devices/setup: installing the runtime on a device (`studio device-setup`).
    "device_setup.this_pc": "This PC runs bundles with the studio's own onnxruntime: there is nothing to install on it.",
    "device_setup.android": "{serial} runs Android, and onnxruntime publishes no wheels for it, so the studio installs its runtime on Linux boards only. On a phone, install Termux, then run `pkg install python` and `pip install onnxruntime` there.",
    "device_setup.no_python": "{serial} has no python3, which the runtime needs. Install Python 3.10 or newer from the board's vendor image (on Debian or Ubuntu: apt install python3), then install the runtime again.",
    "device_setup.python_too_old": "{serial} has {python}, but onnxruntime needs Python {minimum} or newer. Update the board's system image from its vendor, then install the runtime again.",
    "device_setup.no_wheels": "onnxruntime publishes no wheels for {serial} ({platform}). Use a 64-bit Arm or x86 Linux board (glibc 2.17 or newer), or copy a runner program built for it to the device and choose it as the runner.",
    "device_setup.offline": "The runtime for {platform} is not in the studio's cache and PyPI cannot be reached ({detail}). Connect this PC to the internet once, or copy the folder {cache} from a PC that has it, then install again.",
    "device_setup.pip_failed": "pip could not fetch the runtime for {platform}: {detail}.",
    "device_setup.no_space": "{serial} has {free} free at {folder}, but the runtime needs about {needed}. Free up space on the device, then install again.",
    "device_setup.install_failed": "Installing the runtime on {serial} failed ({detail}); nothing was put in place. Install again.",
    "device_setup.verify_failed": "The runtime unpacked on {serial} does not start ({detail}), so it was not put in place.",
}

# Actions a Fix can name, as the CLI words them ({input}, {example} from the Fix).
ACTIONS: dict[str, str] = {}
