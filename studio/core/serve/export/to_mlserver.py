"""MLServer (Seldon Core 2): a custom runtime, ``model-settings.json``, ``settings.json`` and the
Seldon ``Model`` resource."""

from __future__ import annotations

import json

from studio.core.serve.export.writer import Project, project_readme

COMMAND = "mlserver start ."

RUNTIME = '''"""MLServer custom runtime for {name}: V2 requests answered as `studio serve` answers them."""

from __future__ import annotations

from pathlib import Path

from mlserver import MLModel
from mlserver.errors import MLServerError
from mlserver.types import InferenceRequest, InferenceResponse

from edge_v2 import BundleModel, RequestError

BUNDLE = Path(__file__).resolve().parent / "bundle"


class EdgeRuntime(MLModel):
    async def load(self) -> bool:
        self.model = BundleModel(BUNDLE)
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        request = payload.model_dump(exclude_none=True)
        try:
            answer = self.model.infer(request)
        except RequestError as exc:  # the client's mistake: 400 with the one-line reason
            raise MLServerError(str(exc), status_code=400) from exc
        answer["model_name"] = self.name
        return InferenceResponse.model_validate(answer)
'''

SELDON = """# Seldon Core 2: upload this folder (runtime.py, edge_v2.py, model-settings.json, bundle/) to
# your model storage and point storageUri at it; an MLServer server with onnxruntime loads it.
apiVersion: mlops.seldon.io/v1alpha1
kind: Model
metadata:
  name: {slug}
spec:
  storageUri: "s3://models/{slug}"
  requirements:
    - mlserver
"""


def files(project: Project) -> dict[str, str]:
    model_settings = {
        "name": project.name,
        "implementation": "runtime.EdgeRuntime",
        "parameters": {"uri": "./bundle", "version": "1"},
    }
    # Inference in the server process: MLServer 1.7's worker processes fail to start with uvloop
    # 0.22 and later. Ports stay MLServer's defaults (8080 HTTP) so MLSERVER_HTTP_PORT can move them.
    settings = {"host": "127.0.0.1", "parallel_workers": 0}
    return {
        "runtime.py": RUNTIME.format(name=project.name),
        "model-settings.json": json.dumps(model_settings, indent=2) + "\n",
        "settings.json": json.dumps(settings, indent=2) + "\n",
        "seldon-model.yaml": SELDON.format(slug=project.slug),
    }


def readme(project: Project) -> str:
    more = (
        "\n`settings.json` serves on 127.0.0.1 and answers in the server process "
        "(`parallel_workers: 0`): MLServer 1.7's worker processes fail to start with uvloop 0.22+."
        "\n`seldon-model.yaml` is the Seldon Core 2 `Model` resource for this folder.\n"
    )
    return project_readme(project, "MLServer", COMMAND, 8080, more)
