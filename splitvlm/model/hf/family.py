"""One Hugging Face VLM architecture as our stage graph: the base every family adapter fills.

    family = load(directory)                      # splitvlm.model.hf.load
    tokens = family.patch_embed(pixels)           # (B, S, S, 3) uint8 -> (B, N, Dv)
    tokens = family.block(i, tokens)              # vision[i]
    codes = family.project_down(tokens)           # (B, N', r): what the connector consumes
    visual = family.project_up(codes)             # (B, N', Dl): visual tokens in LM space
    ids = family.prompt("what is in the image?")  # the chat template, image tokens expanded
    answer = family.generate(visual, ids, 16)     # the LM on inputs_embeds, its own KV cache

`preprocess` is ours (decode, box-resize to the model's square input side S, uint8): a no-op on
an image already at model resolution. The model's own image processor's arithmetic (rescale,
normalize, and Qwen2-VL's patch layout) opens `patch_embed`, in torch, so that the edge can run
it in its ONNX prefix; `pixel_values` reproduces the processor bit for bit (a test checks).

Each family reads its graph off the model's config alone (`graph_for`), so the boundary sizes of
a real checkpoint are known without its weights (docs/models.md).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch

from splitvlm.errors import BadRequest
from splitvlm.stages import StageGraph

PROMPT_CACHE = 256  # questions whose prompt ids a model keeps


class Family(ABC):
    """A loaded model and its processor, cut into our stages (torch, eval, no grad)."""

    name: ClassVar[str]  # llava | idefics3 | qwen2_vl
    model_types: ClassVar[tuple[str, ...]]  # the config.model_type values it adapts
    export_batch: ClassVar[int] = 2  # 1: its stages loop over the batch, so its ONNX prefixes
    # are traced at batch 1 and run batch 1 only (the edge's requests are batch 1)
    feature_inputs: ClassVar[tuple[str, ...]] = ("pixel_values",)  # what the processor makes
    # that the model's own `get_image_features` reads

    def __init__(self, model: Any, processor: Any) -> None:
        self.model = model.eval()
        self.processor = processor
        self.config = model.config
        self.image_size = self.image_size_for(self.config, processor.image_processor)
        self.graph = self.graph_for(self.config, self.image_size)
        ip = processor.image_processor
        self._scale = float(ip.rescale_factor) if ip.do_rescale else None
        self._mean = torch.tensor(ip.image_mean, dtype=torch.float32) if ip.do_normalize else None
        self._std = torch.tensor(ip.image_std, dtype=torch.float32) if ip.do_normalize else None
        self.image_token_id = int(self.config.image_token_id)
        self._blank = np.zeros((self.image_size, self.image_size, 3), np.uint8)
        # standing questions repeat: their prompt ids are kept (a tuple: callers get copies)
        self._prompt_ids = functools.lru_cache(maxsize=PROMPT_CACHE)(self._expand)

    # ---- the graph, from the config alone ----
    @classmethod
    @abstractmethod
    def image_size_for(cls, config: Any, image_processor: Any | None) -> int:
        """S, the square input side the split model is served at (None: no processor at hand,
        the side its config implies)."""

    @classmethod
    @abstractmethod
    def graph_for(cls, config: Any, image_size: int) -> StageGraph:
        """The stage graph (boundary shapes) of a model with this config at side S."""

    # ---- the visual stages ----
    def pixel_values(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, S, S, 3) uint8 -> (B, 3, S, S) float32, exactly as the processor's numpy does it:
        rescale in float64 then cast, normalize in float32."""
        x = pixels.permute(0, 3, 1, 2)  # (B, 3, S, S)
        if self._scale is not None:
            x = (x.to(torch.float64) * self._scale).to(torch.float32)
        else:
            x = x.to(torch.float32)
        if self._mean is not None and self._std is not None:
            x = (x - self._mean[:, None, None]) / self._std[:, None, None]
        return x

    @abstractmethod
    def patch_embed(self, pixels: torch.Tensor) -> torch.Tensor:
        """(B, S, S, 3) uint8 -> (B, N, Dv): the processor's arithmetic, then the embedding."""

    @abstractmethod
    def block(self, index: int, x: torch.Tensor) -> torch.Tensor:
        """vision[index]: (B, N, Dv) -> (B, N, Dv)."""

    @abstractmethod
    def project_down(self, x: torch.Tensor) -> torch.Tensor:
        """(B, N, Dv) -> (B, N', r): the tower's tail (final norm, feature selection, pixel
        shuffle) up to what the connector's first linear layer reads."""

    @abstractmethod
    def project_up(self, codes: torch.Tensor) -> torch.Tensor:
        """(B, N', r) -> (B, N', Dl): the connector's MLP."""

    @abstractmethod
    def stage_modules(self) -> list[torch.nn.Module]:
        """The modules the visual stages use (their weights make the visual version)."""

    def image_features(self, pixels: np.ndarray) -> torch.Tensor:
        """The model's own visual tokens for (1, S, S, 3) uint8 pixels, through `transformers`'
        processor and `get_image_features`: the reference the stages must equal."""
        inputs = self.inputs("x", pixels[0])
        with torch.no_grad():
            out = self.model.model.get_image_features(
                **{name: inputs[name] for name in self.feature_inputs if name in inputs})
        return torch.stack(list(out.pooler_output))  # (1, N', Dl)

    # ---- the text ----
    def _chat(self, question: str) -> str:
        messages = [{"role": "user", "content": [{"type": "image"},
                                                 {"type": "text", "text": question}]}]
        return str(self.processor.apply_chat_template(messages, add_generation_prompt=True))

    def inputs(self, question: str, pixels: np.ndarray) -> dict[str, torch.Tensor]:
        """What `transformers` feeds the unsplit model: the processor on the chat and (S, S, 3)
        uint8 pixels."""
        from PIL import Image

        return dict(self.processor(text=self._chat(question), images=Image.fromarray(pixels),
                                   return_tensors="pt"))

    def prompt(self, question: str) -> list[int]:
        """The question in the model's chat template, its image placeholder expanded to N'
        image tokens: what `generate` reads (with the visual tokens in those places)."""
        return list(self._prompt_ids(question))

    def _expand(self, question: str) -> tuple[int, ...]:
        ids = self.inputs(question, self._blank)["input_ids"]  # the image only sets N'
        return tuple(int(t) for t in ids[0])

    def lm_extras(self, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """Extra `generate` inputs the family's LM needs besides the embeddings."""
        return {}

    @torch.no_grad()
    def generate(self, visual: np.ndarray, ids: Sequence[int], max_new_tokens: int,
                 streamer: Any = None, stopping_criteria: Any = None) -> list[int]:
        """Greedy answer ids for visual (1, N', Dl) float32 and the prompt ids: the LM fed with
        `inputs_embeds` (the prompt's embeddings, the visual tokens at its image tokens)."""
        input_ids = torch.tensor([list(ids)], dtype=torch.long)  # (1, T)
        image = input_ids == self.image_token_id  # (1, T)
        n_visual = int(image.sum())
        if visual.shape[1:] != (n_visual, self.graph.visual_dim):
            raise BadRequest(f"visual tokens {tuple(visual.shape)} do not fit a prompt with "
                             f"{n_visual} image tokens of width {self.graph.visual_dim}")
        embed = self.model.get_input_embeddings()
        embeds = embed(input_ids)  # (1, T, Dl)
        values = torch.from_numpy(np.ascontiguousarray(visual)).to(embeds.dtype)
        embeds = embeds.masked_scatter(image[..., None], values)
        out = self.model.generate(
            input_ids=input_ids, inputs_embeds=embeds, attention_mask=torch.ones_like(input_ids),
            max_new_tokens=max_new_tokens, do_sample=False, streamer=streamer,
            stopping_criteria=stopping_criteria, pad_token_id=self.pad_id,
            **self.lm_extras(input_ids))
        return [int(t) for t in out[0, input_ids.shape[1]:]]

    @property
    def eos_ids(self) -> frozenset[int]:
        eos = self.model.generation_config.eos_token_id
        ids = eos if isinstance(eos, list) else [eos]
        return frozenset(int(i) for i in ids if i is not None)

    @property
    def pad_id(self) -> int:
        pad = self.processor.tokenizer.pad_token_id
        return int(pad if pad is not None else min(self.eos_ids, default=0))

    def until_end(self, ids: Sequence[int]) -> list[int]:
        """The answer's ids: those before the first end token (what the executor streams)."""
        out: list[int] = []
        for token in ids:
            if token in self.eos_ids:
                break
            out.append(token)
        return out

    def reference(self, question: str, pixels: np.ndarray, max_new_tokens: int) -> list[int]:
        """`transformers`' own greedy `generate` on the unsplit model: what every split must
        reproduce token for token."""
        inputs = self.inputs(question, pixels)
        with torch.no_grad():
            out = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                      pad_token_id=self.pad_id)
        return [int(t) for t in out[0, inputs["input_ids"].shape[1]:]]

    def __repr__(self) -> str:
        g = self.graph
        return (f"{type(self).__name__}(S={g.image_size}, tokens {g.n_tokens}x{g.vision_dim}, "
                f"{g.depth} blocks, visual {g.n_visual}x{g.visual_dim})")
