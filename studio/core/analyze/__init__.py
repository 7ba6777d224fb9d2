"""Look inside a run: per-layer profile, output drift, model diffs, sample runs, the Netron viewer's server."""
