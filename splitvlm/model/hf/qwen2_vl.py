"""Qwen2-VL (Qwen2VLForConditionalGeneration): patches in merge-window order, 2-D rotary
positions in the tower, a patch merger, and M-RoPE in the LM (which needs the prompt's ids,
`image_grid_thw` and the multimodal token types besides the embeddings).

    patch_embed  the processor's patch layout + PatchEmbed (conv3d)   (B, N, Dv)
    vision[i]    block i (rotary positions from the fixed grid)       (B, N, Dv)
    project.down the merger's norm, 2x2 windows concatenated          (B, N/m^2, Dv*m^2)
    project.up   the merger's MLP                                     (B, N/m^2, Dl)
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from splitvlm.errors import ConfigError
from splitvlm.model.hf.family import Family
from splitvlm.stages import StageGraph

SERVED_SIDE = 448  # the square side a Qwen2-VL is split at, unless its processor caps it lower


def qwen2_vl_processor(cls: Any, **parts: Any) -> Any:
    """A Qwen2VLProcessor for images and text. transformers builds its video processor with
    torchvision; where torchvision is absent (our CPU installs) the processor is built without
    one: images and text go through transformers' own code, video is refused."""
    try:
        return cls(**parts)
    except (AttributeError, ImportError, TypeError, ValueError):
        pass

    class ImagesOnly(cls):  # type: ignore[misc, valid-type]
        def check_argument_for_proper_class(self, name: str, argument: Any) -> Any:
            if name == "video_processor" and argument is None:
                return None
            return super().check_argument_for_proper_class(name, argument)

        def save_pretrained(self, directory: Any, **kwargs: Any) -> Any:
            self.image_processor.save_pretrained(directory)
            self.tokenizer.save_pretrained(directory)
            (Path(directory) / "chat_template.jinja").write_text(self.chat_template)
            return []

    return ImagesOnly(**parts, video_processor=None)


def load_qwen2_vl_processor(directory: Path) -> Any:
    """AutoProcessor, or (no torchvision) the same processor built from its saved parts."""
    from transformers import AutoImageProcessor, AutoTokenizer, Qwen2VLProcessor

    try:
        from transformers import AutoProcessor

        return AutoProcessor.from_pretrained(directory, local_files_only=True)
    except (AttributeError, ImportError, TypeError, ValueError):
        template = directory / "chat_template.jinja"
        return qwen2_vl_processor(
            Qwen2VLProcessor,
            image_processor=AutoImageProcessor.from_pretrained(directory, local_files_only=True),
            tokenizer=AutoTokenizer.from_pretrained(directory, local_files_only=True),
            chat_template=template.read_text() if template.is_file() else None)


class Qwen2VL(Family):
    name = "qwen2_vl"
    model_types = ("qwen2_vl",)
    export_batch = 1  # the tower runs one image's flat patch sequence at a time
    feature_inputs = ("pixel_values", "image_grid_thw")

    @classmethod
    def image_size_for(cls, config: Any, image_processor: Any | None) -> int:
        """The largest multiple of patch x merge, at most SERVED_SIDE, that the processor's
        pixel bounds keep as it is (its smart_resize leaves it unchanged); without a
        processor, SERVED_SIDE rounded to that multiple."""
        vision = config.vision_config
        factor = vision.patch_size * vision.spatial_merge_size
        size = {} if image_processor is None else image_processor.size
        low = int(size.get("shortest_edge", 0))  # pixels
        high = int(size.get("longest_edge", SERVED_SIDE * SERVED_SIDE))
        side = min(SERVED_SIDE, math.isqrt(high)) // factor * factor
        if side * side < low or side == 0:
            raise ConfigError(f"the processor's pixel bounds [{low}, {high}] admit no square "
                             f"side that is a multiple of {factor} up to {SERVED_SIDE}")
        return side

    @classmethod
    def graph_for(cls, config: Any, image_size: int) -> StageGraph:
        vision, m = config.vision_config, config.vision_config.spatial_merge_size
        n = (image_size // vision.patch_size) ** 2
        return StageGraph(image_size=image_size, n_tokens=n, vision_dim=vision.embed_dim,
                          depth=vision.depth, n_visual=n // (m * m),
                          code_dim=vision.embed_dim * m * m, visual_dim=vision.hidden_size)

    def __init__(self, model: Any, processor: Any) -> None:
        super().__init__(model, processor)
        from transformers.vision_utils import (
            get_vision_attention_seqlens,
            get_vision_position_ids,
        )

        vision = self.config.vision_config
        side = self.image_size // vision.patch_size
        self.grid_thw = torch.tensor([[1, side, side]])  # (1, 3): one image, one frame
        tower = self._tower
        positions = get_vision_position_ids(self.grid_thw, tower.spatial_merge_size)
        self._seqlens = get_vision_attention_seqlens(self.grid_thw, tower.config)
        n = side * side
        self._rotary = tower.rotary_pos_emb(torch.zeros(n, vision.embed_dim), positions)

    @property
    def _tower(self) -> Any:
        return self.model.model.visual

    def patches(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, S, S, 3) uint8 -> (B, N, C*T*P*P) float32: the processor's flattened patches."""
        vision = self.config.vision_config
        p, m, t = vision.patch_size, vision.spatial_merge_size, vision.temporal_patch_size
        x = self.pixel_values(pixels)  # (B, C, S, S)
        b, c, h, w = x.shape
        gh, gw = h // p, w // p
        x = x.reshape(b, c, gh // m, m, p, gw // m, m, p)
        x = x.permute(0, 2, 5, 3, 6, 1, 4, 7)  # (B, gh/m, gw/m, m, m, C, P, P)
        x = x[:, :, :, :, :, :, None].expand(*x.shape[:6], t, p, p)  # the frame, T times
        return x.reshape(b, gh * gw, c * t * p * p)

    def patch_embed(self, pixels: torch.Tensor) -> torch.Tensor:
        flat = self.patches(pixels)
        return torch.stack([self._tower.patch_embed(f) for f in flat])  # (B, N, Dv)

    def block(self, index: int, x: torch.Tensor) -> torch.Tensor:
        cu_seqlens, max_seqlen = self._seqlens
        blk = self._tower.blocks[index]
        return torch.stack([blk(row, cu_seqlens=cu_seqlens, max_seqlen=max_seqlen,
                                position_embeddings=self._rotary) for row in x])

    def project_down(self, x: torch.Tensor) -> torch.Tensor:
        merger = self._tower.merger
        return merger.ln_q(x).reshape(x.shape[0], -1, merger.hidden_size)  # (B, N', Dv*m^2)

    def project_up(self, codes: torch.Tensor) -> torch.Tensor:
        return self._tower.merger.mlp(codes)  # (B, N', Dl)

    def stage_modules(self) -> list[torch.nn.Module]:
        return [self._tower]
    def lm_extras(self, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"image_grid_thw": self.grid_thw,
                "mm_token_type_ids": (input_ids == self.image_token_id).to(torch.int32)}
