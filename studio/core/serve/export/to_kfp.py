"""Kubeflow Pipelines v2: the bundle's recipe (optimize → check → bundle → verify) as components
that run the studio's CLI in the studio's image, compiled to ``pipeline.yaml`` by the kfp SDK.

The pipeline source is written into the project and compiled by running it with a Python that has
kfp (``kfp_python``; this one by default), so the studio itself needs no kfp to be installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studio import __version__
from studio.core.errors import StudioError
from studio.core.serve.export.writer import Project

COMMAND = "python pipeline.py"
SERVES = False
KFP_PIN = "kfp==2.17.3"
IMAGE = f"edge-deploy-studio:{__version__}"

PIPELINE = '''"""Kubeflow Pipelines v2 for {name}: optimize → check → bundle → verify with the studio's CLI.

`python pipeline.py` compiles it to pipeline.yaml (needs the kfp SDK); upload that to Kubeflow.
Each step runs in STUDIO_IMAGE, an image with Edge Deploy Studio's `studio` command.
"""

# No `from __future__ import annotations`: kfp reads the components' annotations as types.
import sys

from kfp import compiler, dsl

STUDIO_IMAGE = "{image}"
CHIP = "{chip}"
METHOD = "{method}"


@dsl.component(base_image=STUDIO_IMAGE)
def optimize(model_uri: str, method: str, chip: str, optimized: dsl.Output[dsl.Model]) -> None:
    import os
    import shutil
    import subprocess

    os.makedirs(optimized.path, exist_ok=True)
    out = os.path.join(optimized.path, "model.onnx")
    if method == "none":  # the bundle was made from the model as it is
        shutil.copyfile(model_uri, out)
    else:
        cmd = ["studio", "compress", model_uri, "--method", method, "--chip", chip, "--out", out]
        subprocess.run(cmd, check=True)


@dsl.component(base_image=STUDIO_IMAGE)
def check(model: dsl.Input[dsl.Model], chip: str, report: dsl.Output[dsl.Artifact]) -> None:
    import os
    import subprocess

    cmd = ["studio", "check", os.path.join(model.path, "model.onnx"), "--chip", chip, "--json"]
    with open(report.path, "w") as out:
        subprocess.run(cmd, check=True, stdout=out)


@dsl.component(base_image=STUDIO_IMAGE)
def bundle(
    model: dsl.Input[dsl.Model],
    report: dsl.Input[dsl.Artifact],
    chip: str,
    method: str,
    folder: dsl.Output[dsl.Artifact],
) -> None:
    import os
    import subprocess

    source = os.path.join(model.path, "model.onnx")
    cmd = ["studio", "bundle", source, "--chip", chip, "--method", method, "--out", folder.path]
    subprocess.run(cmd, check=True)


@dsl.component(base_image=STUDIO_IMAGE)
def verify(folder: dsl.Input[dsl.Artifact]) -> str:
    import subprocess

    done = subprocess.run(["studio", "verify", folder.path], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr)
    return done.stdout.strip()


@dsl.pipeline(name="{slug}-edge-bundle", description="Optimize, check, bundle and verify {name}")
def edge_bundle(model_uri: str, chip: str = CHIP, method: str = METHOD) -> str:
    optimized = optimize(model_uri=model_uri, method=method, chip=chip)
    checked = check(model=optimized.outputs["optimized"], chip=chip)
    bundled = bundle(
        model=optimized.outputs["optimized"],
        report=checked.outputs["report"],
        chip=chip,
        method=method,
    )
    return verify(folder=bundled.outputs["folder"]).output


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "pipeline.yaml"
    compiler.Compiler().compile(edge_bundle, package_path=target)
    print(f"compiled to {{target}}")
'''


def files(project: Project) -> dict[str, str]:
    manifest = project.manifest
    fields = {
        "name": project.name,
        "slug": project.slug,
        "image": IMAGE,
        "chip": manifest.chip,
        "method": manifest.method,
    }
    return {"pipeline.py": PIPELINE.format(**fields)}


def _python(project: Project) -> str:
    return str(project.options.get("kfp_python") or sys.executable)


def precheck(project: Project) -> None:
    """Refuse before any copying when the Python meant to compile has no kfp."""
    python = _python(project)
    try:
        probe = subprocess.run([python, "-c", "import kfp"], capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        probe = None
    if probe is None or probe.returncode != 0:
        raise StudioError(
            f"Exporting to KFP compiles the pipeline with the kfp SDK, which {python} does not have",
            f"Install it (pip install '{KFP_PIN}') or pass --kfp-python with a Python that has it",
        )


def finish(project: Project, folder: Path) -> list[str]:
    """Compile pipeline.py to pipeline.yaml with a Python that has the kfp SDK."""
    python = _python(project)
    done = subprocess.run(
        [python, "pipeline.py", "pipeline.yaml"], cwd=folder, capture_output=True, text=True
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise StudioError(f"kfp could not compile the pipeline ({last})", "Report this as a bug")
    return ["pipeline.yaml"]


def readme(project: Project) -> str:
    return (
        f"# {project.name}: a Kubeflow Pipelines v2 pipeline\n\n"
        f"Written by `studio export --to kfp` (Edge Deploy Studio {__version__}). `pipeline.yaml` "
        "runs the studio's steps on a model: optimize → check → bundle → verify, each in the "
        f"studio image `{IMAGE}` (edit STUDIO_IMAGE in `pipeline.py` to use your registry's).\n"
        f"The bundle it was made from is in `bundle/` (chip {project.manifest.chip}, method "
        f"{project.manifest.method}).\n\n"
        f"Recompile after an edit (needs `{KFP_PIN}`):\n\n    {COMMAND}\n\n"
        "Run it locally, without a cluster (each step needs the `studio` command on PATH):\n\n"
        '    python -c "from kfp import local; import pipeline; '
        "local.init(runner=local.SubprocessRunner(use_venv=False)); "
        "print(pipeline.edge_bundle(model_uri='model.onnx').output)\"\n\n"
        "`model_uri` is the source model, before optimizing (the copy in `bundle/` is already "
        "optimized).\n\n"
        "Upload `pipeline.yaml` in the Kubeflow Pipelines UI, or with "
        "`kfp.Client().create_run_from_pipeline_package('pipeline.yaml', arguments={'model_uri': "
        "...})`.\n"
    )
