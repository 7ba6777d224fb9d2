"""Step 1, Model: open a file or find one on a hub (browser, details, dialogs, the hub worker)."""
