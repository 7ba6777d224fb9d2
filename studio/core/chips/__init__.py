"""Target chips: the catalogue, will it run there (check), predicted latency, PC calibration, onnxruntime's plan."""
