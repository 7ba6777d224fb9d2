"""Ray Serve: a deployment answering the V2 routes and a ``serve run`` config."""

from __future__ import annotations

from studio.core.serve.export.writer import Project, project_readme

COMMAND = "serve run serve_config.yaml"

APP = '''"""Ray Serve deployment for {name}: the Open Inference Protocol (V2) routes, as `studio serve`."""

from __future__ import annotations

from pathlib import Path

from ray import serve
from starlette.requests import Request
from starlette.responses import JSONResponse

from edge_v2 import BundleModel, RequestError

BUNDLE = Path(__file__).resolve().parent / "bundle"
BASE = "/v2/models/{name}"


@serve.deployment(ray_actor_options={{"num_cpus": 1}})
class EdgeModel:
    def __init__(self) -> None:
        self.model = BundleModel(BUNDLE)

    async def __call__(self, request: Request) -> JSONResponse:
        path = request.url.path.rstrip("/")
        if request.method == "POST" and path == BASE + "/infer":
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({{"error": "The request body is not JSON"}}, status_code=400)
            try:
                return JSONResponse(self.model.infer(body))
            except RequestError as exc:  # the client's mistake: its status and one line
                return JSONResponse({{"error": str(exc)}}, status_code=exc.status)
        if path in ("/v2/health/live", "/v2/health/ready", BASE + "/ready"):
            return JSONResponse({{"live": True, "ready": True}})
        if path == BASE:
            return JSONResponse(self.model.metadata())
        return JSONResponse({{"error": f"No route {{path}}"}}, status_code=404)


app = EdgeModel.bind()
'''

CONFIG = """# `serve run serve_config.yaml` in this folder (it imports app.py from here); on a cluster, give
# the application a runtime_env with this folder as a remote working_dir.
# More replicas answer more requests at once: raise num_replicas.
proxy_location: HeadOnly
http_options:
  host: 127.0.0.1
  port: 8000
applications:
  - name: {slug}
    route_prefix: /
    import_path: app:app
    deployments:
      - name: EdgeModel
        num_replicas: 1
"""


def files(project: Project) -> dict[str, str]:
    return {
        "app.py": APP.format(name=project.name),
        "serve_config.yaml": CONFIG.format(slug=project.slug),
    }


def readme(project: Project) -> str:
    return project_readme(project, "Ray Serve", COMMAND, 8000)
