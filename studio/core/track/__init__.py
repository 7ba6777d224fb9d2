"""Every result remembered: MLflow runs for compress, profile, check, bundle and recipe replays.

Optional (the ``[track]`` extra). Installed, it logs into an embedded SQLite store under the
studio's data folder, or to ``MLFLOW_TRACKING_URI``; mlflow is imported only when a run is logged.
"""
