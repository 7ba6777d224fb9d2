"""KServe: a ``kserve.Model`` predictor (run with ``python model.py``) and an InferenceService."""

from __future__ import annotations

from studio.core.serve.export.writer import Project, project_readme

COMMAND = "python model.py --http_port 8080"

MODEL = '''"""KServe predictor for {name}: the Open Inference Protocol (V2), as `studio serve` answers it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import kserve
from kserve.errors import InvalidInput
from kserve.protocol.infer_type import InferRequest, InferResponse

from edge_v2 import BundleModel, RequestError

BUNDLE = Path(__file__).resolve().parent / "bundle"


class EdgeModel(kserve.Model):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.load()

    def load(self) -> bool:
        self.model = BundleModel(BUNDLE)
        self.ready = True
        return self.ready

    async def predict(self, payload: Any, headers: dict[str, str] | None = None) -> Any:
        # A V2 request arrives parsed as an InferRequest; its REST form is the JSON the client sent.
        request = payload.to_rest()[0] if isinstance(payload, InferRequest) else payload
        try:
            answer = self.model.infer(request)
        except RequestError as exc:  # the client's mistake: 400 with the one-line reason
            raise InvalidInput(str(exc)) from exc
        if not isinstance(payload, InferRequest):
            return answer
        return InferResponse.from_rest(response=answer)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(parents=[kserve.model_server.parser])
    args, _ = parser.parse_known_args()
    kserve.ModelServer().start([EdgeModel("{name}")])
'''

ISVC = """# KServe: build an image of this folder (its Python needs kserve, onnxruntime, numpy) whose
# entrypoint is `python model.py`, push it, and set the image below.
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: {slug}
spec:
  predictor:
    containers:
      - name: kserve-container
        image: "registry.example/{slug}-kserve:latest"
        command: ["python", "model.py"]
        args: ["--http_port", "8080"]
        ports:
          - containerPort: 8080
            protocol: TCP
"""


def files(project: Project) -> dict[str, str]:
    return {
        "model.py": MODEL.format(name=project.name),
        "inferenceservice.yaml": ISVC.format(slug=project.slug),
    }


def readme(project: Project) -> str:
    more = "\n`inferenceservice.yaml` deploys it on KServe once the image is built.\n"
    return project_readme(project, "KServe", COMMAND, 8080, more)
