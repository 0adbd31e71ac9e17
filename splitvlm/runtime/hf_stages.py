"""A Hugging Face VLM (splitvlm.model.hf) as a tier's compute: its visual stages in torch, its
LM streaming tokens, its tokenizer as the text codec.

    family = load(model_dir)
    runner = HFVisual(family)                  # a StageRunner, any range of visual stages
    lm = HFGenerator(family)                   # a TokenGenerator: tokens as `generate` makes them
    text = HFText(family)                      # chat template in, incremental text out
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import torch

from splitvlm.errors import QuestionError
from splitvlm.model.hf.family import Family
from splitvlm.runtime.torch_stages import StagedTorch
from splitvlm.stages import StageKind


class HFVisual(StagedTorch):
    """The family's visual stages, fp32 torch: pixels (B, S, S, 3) uint8 .. visual tokens."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.graph = family.graph
        self.model = family.model

    def _stage(self, kind: StageKind, block: int | None, x: torch.Tensor) -> torch.Tensor:
        f = self.family
        if kind is StageKind.PATCH_EMBED:
            return f.patch_embed(x)
        if kind is StageKind.VISION:
            assert block is not None
            return f.block(block, x)
        if kind is StageKind.PROJECT_DOWN:
            return f.project_down(x)
        if kind is StageKind.PROJECT_UP:
            return f.project_up(x)
        raise ValueError(f"stage {kind} is not a visual stage")


class _Relay:
    """A transformers streamer that hands each new token to an asyncio queue; the prompt (its
    first `put`) is skipped."""

    def __init__(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any]) -> None:
        self.loop, self.queue, self.prompt_seen = loop, queue, False

    def put(self, value: torch.Tensor) -> None:
        if not self.prompt_seen:
            self.prompt_seen = True
            return
        for token in value.reshape(-1).tolist():
            self.loop.call_soon_threadsafe(self.queue.put_nowait, int(token))

    def end(self) -> None:
        pass


class _Stop:
    """A stopping criterion: the consumer went away (an end token, a deadline, a cancel)."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool)


_DONE = object()


class HFGenerator:
    """The family's LM as a TokenGenerator: greedy `generate` on inputs_embeds in the model's
    own worker thread, tokens relayed as they are made. One request at a time per model
    (transformers' models keep per-call state, Qwen2-VL's rope deltas among it), queued in
    order; a request whose caller left before its turn is skipped. No continuous batching."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hf-generate")

    async def stream(
        self, visual: np.ndarray, prompt: list[int], max_new_tokens: int, deadline: float | None
    ) -> AsyncIterator[int]:
        from transformers import StoppingCriteriaList

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = _Stop()

        def run() -> None:
            try:
                if not stop.event.is_set():
                    self.family.generate(visual, prompt, max_new_tokens, _Relay(loop, queue),
                                         StoppingCriteriaList([stop]))
            except BaseException as exc:  # noqa: BLE001 - re-raised on the event loop
                loop.call_soon_threadsafe(queue.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)

        worker = loop.run_in_executor(self._worker, run)
        try:
            while (item := await queue.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
            await worker  # done: `run` has returned
        finally:
            stop.event.set()  # a caller that left: the generation stops at its next token,
            # or (still queued) never starts; nothing waits for it here


class _IncrementalSpeller:
    """Spells tokens by the text they add to the answer so far (a tokenizer's spaces and
    multi-token characters depend on the tokens around them), decoding a short window, not the
    whole answer, per token (TGI's and vLLM's incremental detokenization). Every token
    streams, a special token or half a character as "" (its id still counts)."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.ids: list[int] = []
        self.prefix = self.read = 0  # ids[prefix:read] spelt the text already streamed

    def piece(self, token: int) -> str:
        self.ids.append(token)
        decode = self.tokenizer.decode
        before = decode(self.ids[self.prefix:self.read], skip_special_tokens=True)
        text = decode(self.ids[self.prefix:], skip_special_tokens=True)
        if len(text) <= len(before) or text.endswith("\ufffd"):  # nothing yet, or half a
            return ""  # character: the rest comes with the next token
        self.prefix, self.read = self.read, len(self.ids)
        return text[len(before):]


class HFText:
    """A Hugging Face VLM's text side: free text in its chat template, answers decoded by its
    tokenizer."""

    def __init__(self, family: Family) -> None:
        self.family = family
        self.tokenizer = family.processor.tokenizer
        self.ends = family.eos_ids

    def check(self, question: str) -> str:
        """Any non-empty text (its length is the edge's limit, checked before)."""
        text = question.strip()
        if not text:
            raise QuestionError("question is empty; ask something about the image")
        return text

    def prompt(self, question: str) -> list[int]:
        return self.family.prompt(question)

    def is_end(self, token: int) -> bool:
        return token in self.ends

    def speller(self) -> _IncrementalSpeller:
        return _IncrementalSpeller(self.tokenizer)

    def join(self, pieces: Sequence[str]) -> str:
        return "".join(pieces).strip()

    def text_of(self, ids: Sequence[int]) -> str:
        """A whole answer's text from its ids (up to the first end token)."""
        return self.tokenizer.decode(self.family.until_end(ids), skip_special_tokens=True
                                     ).strip()
