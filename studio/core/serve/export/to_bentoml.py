"""BentoML: a ``@bentoml.service`` class around the bundle and a ``bentofile.yaml``."""

from __future__ import annotations

from studio.core.serve.export.writer import Project, project_readme

COMMAND = "bentoml serve service:EdgeModel --host 127.0.0.1 --port 3000"

SERVICE = '''"""BentoML service for {name}: the Open Inference Protocol (V2) infer route, as `studio serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import bentoml
from bentoml.exceptions import InvalidArgument

from edge_v2 import BundleModel, RequestError

BUNDLE = Path(__file__).resolve().parent / "bundle"


@bentoml.service(name="{slug}", traffic={{"timeout": 60}})
class EdgeModel:
    def __init__(self) -> None:
        self.model = BundleModel(BUNDLE)

    @bentoml.api(route="/v2/models/{name}/infer")
    def infer(
        self,
        inputs: list[dict[str, Any]],
        outputs: list[dict[str, Any]] | None = None,
        id: str | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {{"inputs": inputs, "outputs": outputs, "id": id}}
        try:
            return self.model.infer(request)
        except RequestError as exc:  # the client's mistake: 400 with the one-line reason
            raise InvalidArgument(str(exc)) from exc
'''

BENTOFILE = """service: "service:EdgeModel"
labels:
  model: "{name}"
  written-by: edge-deploy-studio
include:
  - "service.py"
  - "edge_v2.py"
  - "bundle/**"
python:
  packages:
    - onnxruntime
    - numpy
"""


def files(project: Project) -> dict[str, str]:
    fields = {"name": project.name, "slug": project.slug}
    return {
        "service.py": SERVICE.format(**fields),
        "bentofile.yaml": BENTOFILE.format(**fields),
    }


def readme(project: Project) -> str:
    more = "\nPackage it for deployment with `bentoml build` (reads bentofile.yaml).\n"
    return project_readme(project, "BentoML", COMMAND, 3000, more)
