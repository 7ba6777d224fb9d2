"""Run this bundle's OpenVINO GenAI model: NPU first, then GPU, then CPU (stdlib + openvino-genai).

Usage: python runner/generate_openvino.py --prompt "Hello" [--max-new-tokens 64]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def load() -> tuple[object, str]:
    import openvino_genai as ov_genai

    npu = json.loads((HERE / "npu_pipeline_config.json").read_text(encoding="utf-8"))
    cache = str(HERE / "npu_cache")  # the NPU blob Intel's driver compiles, kept for next time
    for device, config in (("NPU", {**npu, "CACHE_DIR": cache}), ("GPU", {}), ("CPU", {})):
        try:
            return ov_genai.LLMPipeline(str(HERE), device, **config), device
        except RuntimeError as exc:
            print(f"{device} unavailable ({str(exc).splitlines()[0]})", file=sys.stderr)
    raise SystemExit("No OpenVINO device could load this model")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    args = parser.parse_args()
    pipe, device = load()
    print(f"running on {device}", file=sys.stderr)

    def stream(text: str) -> bool:
        sys.stdout.write(text)
        sys.stdout.flush()
        return False

    pipe.generate(args.prompt, max_new_tokens=args.max_new_tokens, streamer=stream)  # type: ignore[attr-defined]
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
