"""Install the inference runtime (onnxruntime, onnxruntime-genai, numpy) on a phone or board, in a
private folder of the studio, and take it away again (`studio device-setup`, #26)."""

from __future__ import annotations

from studio.core.devices.setup.install import RuntimeSetupResult, setup_device_runtime

__all__ = ["RuntimeSetupResult", "setup_device_runtime"]
