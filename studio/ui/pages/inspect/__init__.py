"""Step 4, Inspect: per-layer tables, charts, the graph (Netron) and the compare tab."""
