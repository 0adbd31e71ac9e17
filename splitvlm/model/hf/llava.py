"""LLaVA (LlavaForConditionalGeneration) with a CLIP or SigLIP vision tower.

    patch_embed  embeddings (+ CLIP's pre-layernorm)        (B, N, Dv); N counts CLIP's CLS
    vision[i]    tower layer i, up to the feature layer     the blocks past it never run
    project.down the feature selection (CLS dropped)        (B, N', Dv)
    project.up   multi_modal_projector                      (B, N', Dl)
"""

from __future__ import annotations

from typing import Any

import torch

from splitvlm.model.hf.family import Family
from splitvlm.stages import StageGraph


def _feature_layer(config: Any) -> int:
    """How many tower layers the feature layer needs (hidden_states[k] follows layer k-1)."""
    layer = config.vision_feature_layer
    if not isinstance(layer, int):
        raise ValueError(f"vision_feature_layer={layer!r}: concatenated feature layers are not "
                         "split yet; one layer (an int) is")
    n_layers = config.vision_config.num_hidden_layers
    used = layer if layer >= 0 else n_layers + 1 + layer
    if not 0 <= used <= n_layers:
        raise ValueError(f"vision_feature_layer={layer} out of range for {n_layers} layers")
    return used


def _has_cls(config: Any) -> bool:
    return str(config.vision_config.model_type).startswith("clip")


class Llava(Family):
    name = "llava"
    model_types = ("llava",)

    @classmethod
    def image_size_for(cls, config: Any, image_processor: Any | None) -> int:
        return int(config.vision_config.image_size)

    @classmethod
    def graph_for(cls, config: Any, image_size: int) -> StageGraph:
        vision = config.vision_config
        patches = (image_size // vision.patch_size) ** 2
        n_tokens = patches + (1 if _has_cls(config) else 0)
        strategy = config.vision_feature_select_strategy
        if strategy not in ("default", "full"):
            raise ValueError(f"vision_feature_select_strategy={strategy!r}; default or full")
        n_visual = n_tokens - 1 if strategy == "default" else n_tokens  # as transformers:
        # `default` drops the first token, CLIP's CLS (a SigLIP tower is served `full`)
        return StageGraph(image_size=image_size, n_tokens=n_tokens,
                          vision_dim=vision.hidden_size, depth=_feature_layer(config),
                          n_visual=n_visual, code_dim=vision.hidden_size,
                          visual_dim=config.text_config.hidden_size)

    @property
    def _tower(self) -> Any:
        return self.model.model.vision_tower

    def patch_embed(self, pixels: torch.Tensor) -> torch.Tensor:
        x = self._tower.embeddings(self.pixel_values(pixels))  # (B, N, Dv)
        norm = getattr(self._tower, "pre_layrnorm", None)  # CLIP's; SigLIP has none
        return norm(x) if norm is not None else x

    def block(self, index: int, x: torch.Tensor) -> torch.Tensor:
        return self._tower.encoder.layers[index](x, None)

    def project_down(self, x: torch.Tensor) -> torch.Tensor:
        default = self.config.vision_feature_select_strategy == "default"
        return x[:, 1:] if default else x  # (B, N', Dv)

    def project_up(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.model.multi_modal_projector(codes)  # (B, N', Dl)

    def stage_modules(self) -> list[torch.nn.Module]:
        return [self._tower, self.model.model.multi_modal_projector]
