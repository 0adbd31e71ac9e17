"""The VLM family in PyTorch: vision encoder, projectors, language models, checkpoints.

Importing this package imports torch; the edge runtime never does (see splitvlm.runtime.ort).
"""
