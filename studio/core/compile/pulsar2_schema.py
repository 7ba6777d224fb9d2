"""Pulsar2's `pulsar2 build` config, the part the studio writes, as a schema from Axera's docs.

Every field cites where Axera documents it (github.com/AXERA-TECH/pulsar2-docs, published at
pulsar2-docs.readthedocs.io): CONFIG is source/user_guides_config/config.md ("完整的 json 配置参考",
the full commented reference); CALIB is source/user_guides_advanced/advanced_build_guides.md
("加载自定义数据集详解": Numpy calibration data is .npy files packed in a tar, fed to the model
as they are; several inputs match by file name); BUILD is the same file's "pulsar2 build
参数解释" (command-line flags).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CONFIG = "https://pulsar2-docs.readthedocs.io/en/latest/user_guides_config/config.html"
CALIB = "https://pulsar2-docs.readthedocs.io/en/latest/user_guides_advanced/advanced_build_guides.html#custom-calib-dataset"
BUILD = (
    "https://pulsar2-docs.readthedocs.io/en/latest/user_guides_advanced/advanced_build_guides.html"
)
OPS = "https://pulsar2-docs.readthedocs.io/en/latest/appendix/op_support_list_ax650.html"
# config.md: input_processors.src_dtype "option: U8, S8, U16, S16, U32, S32, FP16, FP32".
SRC_DTYPES = {"uint8": "U8", "int8": "S8", "uint16": "U16", "int16": "S16", "uint32": "U32"}
SRC_DTYPES |= {"int32": "S32", "float16": "FP16", "float32": "FP32"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputConfig(_Strict):
    tensor_name: str = Field(description=f"input tensor name, or DEFAULT; required ({CONFIG})")
    calibration_dataset: str = Field(
        description=f"calibration archive; limitation: tar, tar.gz, zip ({CONFIG})"
    )
    calibration_format: Literal["Image", "Numpy", "Binary", "NumpyObject"] = Field(
        "Numpy", description=f"default Image; Numpy loads .npy as is, no preprocessing ({CALIB})"
    )
    calibration_size: int = Field(
        description=f"min(size, dataset size) samples; -1 means all, default 32 ({CONFIG})"
    )
    calibration_mean: list[float] = Field(description=f"normalisation mean ({CONFIG})")
    calibration_std: list[float] = Field(description=f"normalisation std ({CONFIG})")

    @field_validator("calibration_dataset")
    @classmethod
    def _archive(cls, value: str) -> str:
        if not value.endswith((".tar", ".tar.gz", ".zip")):
            raise ValueError("calibration_dataset must be a .tar, .tar.gz or .zip (config.md)")
        return value

    @field_validator("calibration_size")
    @classmethod
    def _size(cls, value: int) -> int:
        if value == 0 or value < -1:
            raise ValueError("calibration_size is -1 (all) or a positive count (config.md)")
        return value


class QuantConfig(_Strict):
    input_configs: list[InputConfig] = Field(min_length=1, description=f"one per input ({CONFIG})")
    calibration_method: Literal["MinMax", "Percentile", "MSE", "KL"] = Field(
        "MinMax", description=f"default MinMax ({CONFIG})"
    )


class InputProcessor(_Strict):
    tensor_name: str = Field(description=f"input tensor name, or DEFAULT ({CONFIG})")
    tensor_format: Literal["AutoColorSpace", "BGR", "RGB", "GRAY"] = Field(
        "AutoColorSpace", description=f"colour space in the model ({CONFIG})"
    )
    tensor_layout: Literal["NHWC", "NCHW"] = Field("NCHW", description=f"({CONFIG})")
    src_format: Literal[
        "AutoColorSpace", "GRAY", "BGR", "RGB", "YUYV422", "UYVY422", "YUV420SP", "YVU420SP", "RAW"
    ] = Field("AutoColorSpace", description=f"input format at run time ({CONFIG})")
    src_layout: Literal["NHWC", "NCHW"] = Field("NCHW", description=f"({CONFIG})")
    src_dtype: Literal["U8", "S8", "U16", "S16", "U32", "S32", "FP16", "FP32"] = Field(
        "FP32", description=f"input data type at run time ({CONFIG})"
    )


class CompilerConfig(_Strict):
    check: int = Field(
        0,
        ge=0,
        le=3,
        description=f"0 none, 1 all close, 2 all equal, 3 cosine similarity ({CONFIG})",
    )


class Pulsar2Config(_Strict):
    model_type: Literal["ONNX", "QuantAxModel", "QuantONNX"] = Field(
        "ONNX", description=f"QuantONNX takes a Q/DQ model ({CONFIG})"
    )
    target_hardware: Literal["AX650", "AX620E", "M76H", "M57"] = Field(
        "AX650", description=f"({CONFIG}; --target_hardware in {BUILD})"
    )
    npu_mode: Literal["NPU1", "NPU2", "NPU3"] = Field(
        "NPU1", description=f"number of NPU cores used; AX650: NPU1/NPU2/NPU3 ({BUILD})"
    )
    quant: QuantConfig
    input_processors: list[InputProcessor] = Field(default_factory=list, description=f"({CONFIG})")
    compiler: CompilerConfig = CompilerConfig()
