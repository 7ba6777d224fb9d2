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
    # studio/core/atomic.py, bundle/folder.py, compress/run.py, model/: where an output goes.
    "output.cannot_create": "Cannot create the output folder {path} ({reason}). {Fix}",
    "output.not_writable": "The output folder {path} is not writable. {Fix}",
    "output.could_not_write": "Could not write {path} ({reason}). {Fix}",
    "output.exists": "{path} already exists. {Fix}",
    "output.overwrites_input": "The output would overwrite the input model. {Fix}",
    "output.overwrites_original": "The output would overwrite the original model. {Fix}",
    "output.not_onnx": (
        "The output {name} must end in .onnx (or be a folder). Name the output like model.int8.onnx"
    ),
    "bundle.out_is_file": "{path} exists and is a file. {Fix}",
    "bundle.out_not_bundle": (
        "{path} already holds files that are not a studio bundle. {Fix} (the studio never "
        "deletes your files)"
    ),
    "bundle.out_exists": "{path} already holds a bundle. {Fix}",
    # studio/core/model/: convert, fix_shapes, shapes.
    "convert.unsupported": "Converting to {to} is not supported. Convert to onnx or ort",
    "convert.suffix": "The output {name} must end in {suffix} to convert to {to}. Name it like model{suffix}",
    "convert.torchscript_shapes": (
        "A TorchScript model does not record its input shapes ({name}). Name each input and its "
        "shape: {fix}"
    ),
    "convert.export_failed": (
        "PyTorch could not export {name} ({reason}). Check that the input sizes given match "
        "what the model expects"
    ),
    "convert.opset_failed": (
        "PyTorch could not export {name} ({reason}). Try another opset ({fix}), or export with "
        "the model's own tools"
    ),
    "shapes.none": "No sizes given. {Fix}",
    "shapes.bad": "The size '{value}' is not NAME=DIMS. Write it like image=1x3x224x224",
}

# Actions a Fix can name, as the CLI words them ({input}, {example} from the Fix).
ACTIONS: dict[str, str] = {
    "other_out": "choose another --out path",
    "out_or_force": "choose another --out path or pass --force",
    "writable_out": "choose a folder you can write to with --out",
    "folder_out": "choose a folder path with --out",
    "empty_out": "choose an empty or new folder with --out",
    "bundle_or_force": "choose another --out folder or pass --force to replace it",
}
