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
    "convert.suffix": (
        "The output {name} must end in {suffix} to convert to {to}. Name it like model{suffix}"
    ),
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
    # studio/core/compress/graph.py: sizes and layers the user names.
    "shapes.not_input": (
        "A size is given for '{name}', which is not an input of the model. Use one of: {inputs}"
    ),
    "shapes.rank": (
        "The size for '{name}' gives {given} dimensions but input '{name}' has {rank}. Give "
        "{rank} numbers, like {example}"
    ),
    "shapes.fixed_axis": (
        "Axis {axis} of input '{name}' is fixed at {fixed}, not {want}. Change only the dynamic "
        "dimensions (shown as ?)"
    ),
    "compress.opset_upgrade": (
        "The model uses opset {opset} and could not be upgraded to {minimum}, which {why} needs "
        "({reason}). Re-export the model with opset {minimum} or newer ({fix})"
    ),
    "compress.npu_dynamic": (
        "The chip's NPU needs fixed shapes, but input '{name}' has dynamic axis {axis}. Give its "
        "size: {fix} (in a recipe: shapes)"
    ),
    "compress.keep_float_unknown": (
        "Keep in float: '{entry}' matches no node or op type in the model. {hint}"
    ),
    "compress.node_failed": (
        "{method} failed at node '{node}' ({op}): {reason}. Keep it in float ({fix}), or choose "
        "another method"
    ),
    "channels.none_to_remove": (
        "No layer has enough channels to remove {ratio} of them (the widest safe layer has "
        "{widest}, so none to remove at this ratio). Raise the ratio ({fix}), or use "
        "int8-static or fp16 for this model"
    ),
    # studio/core/analyze/profile.py, chips/check.py: numbers the user gives.
    "profile.runs_low": (
        "The number of runs must be at least 1 (got {runs}). {Fix} for a stable median"
    ),
    "profile.runs_high": (
        "The number of runs must be at most {most} (got {runs}). {Fix} for a stable median"
    ),
    "profile.threads": (
        "The number of threads must be between 1 and {most} (got {threads}). {Fix} (this PC's "
        "cores)"
    ),
    "check.context": "The context must be at least 1 token (got {context}). {Fix}",
    "check.context_assumed": "KV cache sized for a {context}-token context ({fix} to change it)",
    # studio/core/devices/: choosing a device and the folder on it.
    "devices.none_ready": "No phone or board is ready{waiting}. {Fix}",
    "devices.several": "Several devices are connected: {serials}. {Fix}",
    "devices.move_failed": (
        "Could not move files into place on {serial} ({reason}). Check the folder is writable "
        "({fix})"
    ),
    "devices.out_of_storage": (
        "{serial} ran out of storage while receiving {name}. Free up space on the device or {fix}"
    ),
    "devices.refused": "{serial} refused {path} ({reason}). {Fix}",
    "devices.could_not_write": "Could not write {path} ({reason}). {Fix}",
    "devices.bad_model_name": (
        "The bundle's model name '{name}' cannot name a folder on the device. {Fix}, or rebuild "
        "the bundle with a plain model name"
    ),
    "devices.not_absolute": (
        "The device folder '{path}' is not an absolute folder path on the device. Write it like "
        "/data/local/tmp/my-model"
    ),
    "devices.no_space": (
        "{serial} has {free} free at {path}, but the bundle needs {need} more. Free up space on "
        "the device (delete old bundles or apps) or {fix}"
    ),
    "devices.bad_counts": (
        "The number of runs must be 1 or more and warm-up runs 0 or more (got {runs} and "
        "{warmup}). Fix the numbers"
    ),
    "devices.not_deployed": (
        "This bundle is not on {serial} at {path} (or an older copy is). {Fix}"
    ),
    # studio/core/devices/states.py: a device's state and what to do about it.
    "device.ready": "Ready",
    "device.unauthorized": "Not authorized",
    "device.unauthorized.fix": (
        "Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt. No prompt? Unplug "
        "and reconnect the cable, or in Developer options tap 'Revoke USB debugging "
        "authorizations' and reconnect"
    ),
    "device.authorizing": "Waiting for approval",
    "device.authorizing.fix": (
        "Unlock the phone and tap 'Allow' on the 'Allow USB debugging?' prompt"
    ),
    "device.connecting": "Connecting",
    "device.connecting.fix": "Wait a moment",
    "device.offline": "Not answering",
    "device.offline.fix": (
        "Unplug and reconnect the device (for Wi-Fi: check it is on the same network and press "
        "Connect again); if it stays offline, restart the device"
    ),
    "device.no_permission": "No permission to use it",
    "device.no_permission.fix": (
        "This computer may not open the USB device: add a udev rule for it (see README, "
        "'USB permissions on Linux') and reconnect"
    ),
    "device.other_mode": "In {mode} mode",
    "device.other_mode.fix": "Restart the device normally (into Android) and reconnect it",
    "device.unknown": "Unknown state '{state}'",
    "device.unknown.fix": "Unplug and reconnect the device",
    # studio/core/samples/: made-up samples and image sizes.
    "samples.cannot_make": (
        "Cannot make a sample for input '{name}': it indexes a tensor whose size is not known "
        "before running. Give real samples ({fix}: a .npz with one array per input name)"
    ),
    "samples.dynamic_image": (
        "Input '{name}' has a dynamic image size, so the images cannot be resized. {Fix}"
    ),
    # studio/core/generate/, ovgenai/: exporting a language model.
    "llm.trust_remote_code": (
        "{name} ({arch}) needs the Python modelling code in its folder, which the export runs "
        "only when you allow it. {Fix} only if you trust that folder's .py files: they run with "
        "your permissions (nothing is downloaded)"
    ),
    "llm.out_not_empty": "{path} already exists and is not empty. {Fix}",
    "llm.not_exported": "{path} is a Hugging Face model that has not been exported yet. {Fix}",
    "llm.chip_not_intel": (
        "Exporting for {chip} is not supported (OpenVINO GenAI models are for {chips}). {Fix}, or "
        "pick an Intel chip"
    ),
    # studio/core/hubs/: signing in and downloads.
    "hub.offline_check": "Cannot check the token while offline mode is on. {Fix}",
    "hub.modelscope_search": (
        "Searching ModelScope from the studio is not supported yet. Find the model on "
        "modelscope.cn and {fix}"
    ),
    "hub.modelscope_missing": "{repo} is not downloaded from ModelScope yet. {Fix}",
    "hub.no_keyring": (
        "No secure keyring was found on this computer, so the token is kept only until the "
        "studio closes. Install and unlock a keyring (e.g. GNOME Keyring or KWallet) to stay "
        "signed in"
    ),
    "hub.env_token": "Using the token from the HF_TOKEN environment variable",
    "hub.no_file_matches": "No downloaded file of {repo} matches {patterns}. {Fix}",
    # studio/core/compile/: compiling for a chip's NPU.
    "compile.random_calibration": (
        "No calibration samples given: calibration uses made-up inputs, which says little about "
        "real accuracy; {fix} with real samples (an image folder, .npz or prompts file)."
    ),
    "compile.flexible_size": (
        "Input '{name}' still has a flexible size ({dims}). Give it one: {fix}"
    ),
    "compile.out_is_file": "The output {path} is a file. Give a folder for the compiled model",
    "compile.out_not_ours": "{path} is not a folder `studio compile` wrote. {Fix}",
    "compile.out_is_model_folder": "The output is the model's own folder. {Fix}",
    "compile.rejected": (
        "Qualcomm's compiler rejected the model: {reason}. Check that the model's ops are ones "
        "the HTP runs ({fix})"
    ),
    "compile.openvino_rejected": (
        "OpenVINO cannot convert the model: {reason}. The Intel NPU path needs every op in a form "
        "OpenVINO reads; the other chips' paths may still take it"
    ),
    "compile.not_all_npu": (
        "Not all of the model runs on the NPU: {what}. {Fix} to keep the split (those nodes run "
        "on the CPU), or replace them"
    ),
    # studio/core/serve/server.py: where and how a bundle is served.
    "serve.bad_port": "Port {port} is not a port number. Give one between 1 and 65535 ({fix})",
    "serve.cannot_listen": "Cannot listen on {host}:{port} ({reason}). {Fix}",
    "serve.bad_limits": (
        "The workers and the largest request body must be at least 1 and the queue at least 0 "
        "(got {workers}, {max_body} and {queue})"
    ),
    # studio/core/analyze/diff.py
    "diff.no_layers": (
        "{path} holds no per-layer drift (no 'per_layer' list). Give the report the Optimize "
        "step or {fix} writes"
    ),
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
    "device_setup.vendor_wheel": "{chip}'s own runtime ({requirement}) has a wheel for this board: it is installed beside onnxruntime.",
    "device_setup.vendor_elsewhere": "{chip}'s own runtime is not published as a wheel ({where}); the board runs models with onnxruntime on its CPU.",
    "device_setup.vendor_none": "No runtime of {chip}'s maker is published as a wheel; the board runs models with onnxruntime on its CPU.",
    "device_setup.verify_failed": "The runtime unpacked on {serial} does not start ({detail}), so it was not put in place.",
}

# Actions a Fix can name, as the CLI words them ({input}, {example} from the Fix).
ACTIONS: dict[str, str] = {
    "other_out": "choose another --out path",
    "out_or_force": "choose another --out path or pass --force",
    "writable_out": "choose a folder you can write to with --out",
    "folder_out": "choose a folder path with --out",
    "empty_out": "choose an empty or new folder with --out",
    "bundle_or_force": "choose another --out folder or pass --force to replace it",
    "convert_opset": "studio convert --opset {example}",
    "plug_in_device": (
        "plug one in with USB debugging on (or connect over Wi-Fi with `studio devices --connect "
        "HOST:PORT`), or choose --device this-pc"
    ),
    "choose_device": "choose one with --device SERIAL",
    "other_device_folder": "choose another folder with --to",
    "writable_device_folder": "choose a folder the device lets you write to with --to",
    "writable_to": "choose a folder you can write to with --to",
    "device_folder": "choose the folder with --to",
    "deploy_first": "deploy it first: studio deploy {input} --device {example}",
    "image_size_or_shape": "set the image size in Advanced (image.size) or pass --shape {example}",
    "samples_npz": "--calib/--eval",
    "trust_remote_code": "pass --trust-remote-code",
    "llm_out_or_force": "choose another output folder or pass --force",
    "llm_export_first": "export it first: studio llm-export {input} --out <folder>",
    "leave_out_chip": "leave out --chip for an onnxruntime-genai bundle",
    "sign_in_no_check": "turn offline mode off, or sign in with --no-check",
    "modelscope_download": "download it by its ID (studio hub download ID --hub modelscope)",
    "modelscope_download_first": "download it first: studio hub download {input} --hub modelscope",
    "download_pattern": "run: studio hub download {input} --include '{example}'",
    "compress_json": "`studio compress --json`",
    "other_out_folder": "choose another --out folder",
    "new_out_folder": "choose a new folder for --out",
    "check_chip": "`studio check --chip`",
    "other_port": "choose another --port, or a --host this computer has",
}
