"""Hugging Face VLMs split on our stage graph (the `[hf]` extra: torch + transformers).

    family = load(Path("models/SmolVLM-256M-Instruct"))   # local files only, nothing fetched
    family.graph                                            # the boundary at every cut

Families: LLaVA (CLIP or SigLIP tower), Idefics3 / SmolVLM, Qwen2-VL (splitvlm.model.hf.*).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from splitvlm.errors import ConfigError
from splitvlm.model.hf.family import Family
from splitvlm.model.hf.idefics3 import Idefics3
from splitvlm.model.hf.llava import Llava
from splitvlm.model.hf.qwen2_vl import Qwen2VL, load_qwen2_vl_processor

ADAPTERS: tuple[type[Family], ...] = (Llava, Idefics3, Qwen2VL)


def adapter_for(config: Any) -> type[Family]:
    """The family adapter of a transformers config (by its model_type)."""
    for adapter in ADAPTERS:
        if config.model_type in adapter.model_types:
            return adapter
    known = sorted(t for a in ADAPTERS for t in a.model_types)
    raise ConfigError(f"model_type {config.model_type!r} has no adapter; adapted: {known}")


def load(directory: Path) -> Family:
    """The model and processor saved in `directory` (safetensors, config, processor and
    tokenizer files), as a Family. Nothing is fetched from a hub."""
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

    if not (directory / "config.json").is_file():
        raise FileNotFoundError(f"{directory} has no config.json: not a saved transformers "
                                "model (save_pretrained writes one)")
    try:
        config = AutoConfig.from_pretrained(directory, local_files_only=True)
        adapter = adapter_for(config)
        processor = (load_qwen2_vl_processor(directory) if adapter is Qwen2VL
                     else AutoProcessor.from_pretrained(directory, local_files_only=True))
        if hasattr(processor.image_processor, "do_image_splitting"):
            processor.image_processor.do_image_splitting = False  # one global tile
        model = AutoModelForImageTextToText.from_pretrained(directory, local_files_only=True,
                                                            dtype="float32")
        return adapter(model, processor)
    except ConfigError:
        raise
    except (OSError, ValueError, KeyError, AttributeError) as exc:  # transformers' own
        raise ConfigError(f"cannot load the model in {directory}: {exc}") from exc


__all__ = ["ADAPTERS", "Family", "adapter_for", "load"]
