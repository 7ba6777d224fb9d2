"""Where runs go: the embedded SQLite store, or the team server ``MLFLOW_TRACKING_URI`` names."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core.errors import StudioError
from studio.core.paths import data_dir

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

URI_ENV = "MLFLOW_TRACKING_URI"
SWITCH_ENV = "STUDIO_TRACKING"
"""``off`` stops logging even with the extra installed."""
EXPERIMENT = "edge-deploy-studio"
INSTALL_FIX = 'Install the tracking extra: pip install "edge-deploy-studio[track]"'

# A server that is down must cost the job seconds, not MLflow's default minutes of retries.
# Its tqdm bar for artifact downloads would draw over the studio's own progress.
_HTTP_SETTINGS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "5",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
}


def installed() -> bool:
    return importlib.util.find_spec("mlflow") is not None


def enabled() -> bool:
    return installed() and os.environ.get(SWITCH_ENV, "").lower() != "off"


def tracking_folder() -> Path:
    return data_dir() / "tracking"


def tracking_uri() -> str:
    """The team server if one is set, else the embedded store (created on first use)."""
    uri = os.environ.get(URI_ENV)
    if uri:
        return uri
    folder = tracking_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{(folder / 'mlflow.db').as_posix()}"


def open_store() -> tuple[MlflowClient, str]:
    """A client and the studio's experiment id; raises what MLflow raises if the store is down."""
    if not installed():
        raise StudioError("Run tracking is not installed", INSTALL_FIX)
    for name, value in _HTTP_SETTINGS.items():
        os.environ.setdefault(name, value)
    import logging

    # Its table migrations log INFO lines on the first use of a store; the user cannot act on them.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow.tracking import MlflowClient

    uri = tracking_uri()
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return client, found.experiment_id
    artifacts = None
    if uri.startswith("sqlite:"):  # artifacts beside the embedded database, not in the cwd
        artifacts = (tracking_folder() / "artifacts").as_uri()
    return client, client.create_experiment(EXPERIMENT, artifact_location=artifacts)
