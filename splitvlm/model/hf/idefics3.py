"""Idefics3 / SmolVLM (Idefics3ForConditionalGeneration): a SigLIP tower, a pixel-shuffle
connector, a Llama-style LM. Served as one global tile (the processor's image splitting off).

    patch_embed  embeddings (patch conv + position ids)     (B, N, Dv)
    vision[i]    encoder layer i                            (B, N, Dv)
    project.down post-layernorm + pixel shuffle             (B, N/s^2, Dv*s^2)
    project.up   the connector's modality projection        (B, N/s^2, Dl)
"""

from __future__ import annotations

from typing import Any

import torch

from splitvlm.model.hf.family import Family
from splitvlm.stages import StageGraph


class Idefics3(Family):
    name = "idefics3"
    model_types = ("idefics3", "smolvlm")
    feature_inputs = ("pixel_values", "pixel_attention_mask")

    @classmethod
    def image_size_for(cls, config: Any, image_processor: Any | None) -> int:
        return int(config.vision_config.image_size)

    @classmethod
    def graph_for(cls, config: Any, image_size: int) -> StageGraph:
        vision, s = config.vision_config, config.scale_factor
        n = (image_size // vision.patch_size) ** 2
        return StageGraph(image_size=image_size, n_tokens=n, vision_dim=vision.hidden_size,
                          depth=vision.num_hidden_layers, n_visual=n // (s * s),
                          code_dim=vision.hidden_size * s * s,
                          visual_dim=config.text_config.hidden_size)

    @property
    def _tower(self) -> Any:
        return self.model.model.vision_model

    def _patches(self, batch: int) -> torch.Tensor:
        side = self.image_size // self.config.vision_config.patch_size
        return torch.ones((batch, side, side), dtype=torch.bool)  # no padding: one full tile

    def patch_embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """The tower's embeddings for one unpadded tile at its own side, where every patch's
        position id is its index (what its bucketing computes there), written out so that an
        ONNX export traces integer positions."""
        embeddings = self._tower.embeddings
        x = embeddings.patch_embedding(self.pixel_values(pixels))  # (B, Dv, S/P, S/P)
        x = x.flatten(2).transpose(1, 2)  # (B, N, Dv)
        return x + embeddings.position_embedding(torch.arange(x.shape[1]))[None]

    def block(self, index: int, x: torch.Tensor) -> torch.Tensor:
        from transformers.masking_utils import create_bidirectional_mask

        mask = create_bidirectional_mask(  # what the tower builds: None where nothing is padded
            config=self._tower.config, inputs_embeds=x,
            attention_mask=self._patches(x.shape[0]).view(x.shape[0], -1))
        return self._tower.encoder.layers[index](x, mask)

    def project_down(self, x: torch.Tensor) -> torch.Tensor:
        connector = self.model.model.connector
        return connector.pixel_shuffle(self._tower.post_layernorm(x), connector.scale_factor)

    def project_up(self, codes: torch.Tensor) -> torch.Tensor:
        return self.model.model.connector.modality_projection(codes)  # (B, N', Dl)

    def stage_modules(self) -> list[torch.nn.Module]:
        return [self._tower, self.model.model.connector]
