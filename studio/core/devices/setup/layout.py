"""Where the studio's private runtime lives on a device (shared by setup and run detection).

The folder name starts with a dot: a bundle's device folder never does (deploy strips leading
dots from model names), so no model can be deployed over the runtime.
"""

from __future__ import annotations

RUNTIME_DIR = ".studio-runtime"
SITE = "site"  # the packages, put on PYTHONPATH when a runner starts
MARKER = "runtime.json"  # written last, before the folder is renamed into place
