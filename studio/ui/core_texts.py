"""Fixed English sentences that studio/core hands to the GUI, listed so the GUI can show them
translated: ``tr(info.status)`` finds these entries; any other core text stays English.

Sentences with numbers or a fix in them are messages with an id instead (studio/core/messages,
shown by studio/ui/messages.py); convert these fixed ones to ids as their code is touched.

studio/core stays Qt-free and English (the CLI prints the same words). tests/test_i18n.py checks
that every text here still occurs in studio/core, so a reworded core sentence is noticed.
"""

from __future__ import annotations

from studio.ui.i18n import N_

# studio/core/compress/presets.py: what each preset card says (the titles have title_zh).
PRESET_TEXTS = [
    N_("Fastest on NPU"),
    N_("Fastest on GPU"),
    N_("about 7× smaller"),
    N_("about 4× smaller"),
    N_("about 2× smaller"),
    N_("same size"),
    N_("the smallest that passes"),
    N_("faster text generation (less memory to read)"),
    N_("usually faster"),
    N_("runs fully in 8-bit on the NPU"),
    N_("runs fully in 8-bit on the GPU"),
    N_("no NPU here: 8-bit on the CPU"),
    N_("fast on the NPU"),
    N_("fast on the GPU"),
    N_("same or a little faster"),
    N_("measured on this PC"),
    N_("small quality change"),
    N_("usually < 1% change"),
    N_("outputs almost identical"),
    N_("identical outputs"),
    N_("stays within 1% drift"),
    N_("INT4: MatMul weights stored in 4 bits with one scale per 32 weights."),
    N_("INT8 static: weights and activations in 8 bits, calibrated on your samples."),
    N_(
        "NPUs compute in 8-bit integers; every layer is quantized so nothing falls back "
        "to the slower CPU."
    ),
    N_("FP16: 16-bit floats; inputs and outputs stay 32-bit."),
    N_(
        "Only tidies the graph (folds constants, removes dead nodes). FP16 is "
        "usually slower on a plain CPU, so it is not used here."
    ),
    N_(
        "Tries the methods that suit this model and chip, measures each, and keeps the "
        "best one within the accuracy budget. Takes a few times longer."
    ),
]

# studio/core/compress/methods.py: METHOD_LABELS, the Advanced panel's method list.
METHOD_TEXTS = [
    N_("Clean up the graph only (same precision, fewer nodes)"),
    N_("INT8 dynamic: weights to 8-bit, no calibration (best for transformers)"),
    N_("INT8 static: weights and activations to 8-bit, calibrated (best for CNNs)"),
    N_("INT4 weights: about 7× smaller MatMul weights (for language models)"),
    N_("FP16: half-size weights, accuracy almost unchanged (best for GPUs/NPUs)"),
    N_("Sparsity report and optional magnitude pruning (no speed-up on CPU)"),
    N_("Auto: try the likely methods, measure them, keep the best within budget"),
    N_("Remove channels (structured pruning): less compute, speed measured; needs fine-tuning"),
]

# The Advanced panel's option names, as optimize_advanced.friendly() derives them from the
# parameter names in studio/core/compress/methods.py (checked against them by a test).
OPTION_NAMES = [
    N_("Opset"),
    N_("Eval limit"),
    N_("Measure latency"),
    N_("Calibrate method"),
    N_("Per channel"),
    N_("Activations"),
    N_("Reduce range"),
    N_("QNN-style config"),
    N_("Size"),
    N_("Layout"),
    N_("Color"),
    N_("Scale"),
    N_("Mean"),
    N_("Std"),
    N_("Block size"),
    N_("Symmetric"),
    N_("Accuracy level"),
    N_("Keep io types"),
    N_("Sparsity"),
    N_("Min cosine"),
    N_("Min top1"),
    N_("Goal"),
    N_("Ratio"),
    N_("Multiple of"),
]

# ... and their one-line descriptions (the tooltips).
OPTION_TEXTS = [
    N_("Convert to this opset first"),
    N_("Samples used for the drift report"),
    N_("Time the model before and after on this PC"),
    N_(
        "How activation ranges are chosen: minmax (fast), entropy or percentile (ignore "
        "outliers; slower, sometimes more accurate)"
    ),
    N_("One scale per output channel of each weight"),
    N_("Activation type; uint16 keeps more accuracy on NPUs"),
    N_("7-bit weights; helps older x86 CPUs without VNNI avoid overflow"),
    N_("Use the Qualcomm QNN-style configuration; empty = when the chip asks"),
    N_("Resize to [height, width]; empty = the model's input size"),
    N_("Channel order of the input tensor; empty = guess from the model"),
    N_("Colour order of the pixels"),
    N_("Pixels are multiplied by this first (1/255 → 0..1)"),
    N_("Subtracted per channel after scaling"),
    N_("Divided per channel after the mean"),
    N_("Weights sharing one scale (power of 2)"),
    N_("Symmetric quantization (no zero point)"),
    N_("Compute type on CPU: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8"),
    N_("Inputs and outputs stay float32"),
    N_("Fraction of the smallest weights set to zero (0 = report)"),
    N_("Lowest accepted output cosine"),
    N_("Lowest top-1 agreement (classifiers)"),
    N_("Among results within budget, keep the smallest or the fastest"),
    N_("Fraction of each safe layer's output channels removed (0.3 = 30%)"),
    N_("Keep a multiple of this many channels (8 or 16 suits many NPUs and SIMD)"),
]

# Fixed words core uses in results (drift report's sample source, chip table).
RESULT_TEXTS = [
    N_("evaluation data"),
    N_("random inputs"),
    N_("held-out calibration samples (not used to calibrate)"),
    N_("cannot predict"),
    N_(
        "The profiler times each node separately and adds its own bookkeeping, so the profiled "
        "total is higher than the plain end-to-end time; use it for shares, not absolute speed."
    ),
]
