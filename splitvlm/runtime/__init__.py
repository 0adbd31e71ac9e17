"""Executors for a slice of stages: `torch_stages` (fp32, torch) and `ort` (ONNX Runtime, numpy).

Importing this package imports neither torch nor onnxruntime; import the back end you need.
"""
