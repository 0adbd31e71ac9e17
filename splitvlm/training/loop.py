"""What both training phases share: schedule, resumable state, progress, threads."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm


@dataclass(frozen=True)
class TrainConfig:
    steps: int  # optimizer steps in total (a resumed run continues to this count)
    lr: float  # peak learning rate after warm-up
    batch_size: int = 128
    warmup: int = 100  # linear warm-up steps, then cosine decay to 10 % of lr
    weight_decay: float = 0.01
    seed: int = 0
    bf16: bool = False  # CPU bf16 autocast: faster only where the CPU has BF16 units (AVX-512
    # BF16 or AMX); 12x slower on an AMD EPYC without them (docs/models.md)
    eval_every: int = 500

    def __post_init__(self) -> None:
        if self.steps <= 0 or self.lr <= 0 or self.batch_size <= 0:
            raise ValueError(f"steps, lr and batch_size must be positive, got {self}")

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        progress = (step - self.warmup) / max(1, self.steps - self.warmup)
        return self.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


class Run:
    """Optimizer + resumable state in `state_path` (model, optimizer, step, seconds)."""

    def __init__(self, model: torch.nn.Module, cfg: TrainConfig, state_path: Path) -> None:
        self.model, self.cfg, self.state_path = model, cfg, state_path
        params = [p for p in model.parameters() if p.requires_grad]
        self.opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step, self.seconds = 0, 0.0
        if state_path.exists():
            state = torch.load(state_path, weights_only=True)
            model.load_state_dict(state["model"])
            self.opt.load_state_dict(state["opt"])
            self.step, self.seconds = int(state["step"]), float(state["seconds"])

    def save(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(".tmp")
        torch.save({"model": self.model.state_dict(), "opt": self.opt.state_dict(),
                    "step": self.step, "seconds": self.seconds}, tmp)
        tmp.replace(self.state_path)

    def steps(self, desc: str) -> Iterator[int]:
        """Yields step numbers to run; sets the learning rate; checkpoints every 200 steps."""
        bar = tqdm(total=self.cfg.steps, initial=self.step, desc=desc,
                   disable=not sys.stderr.isatty())
        while self.step < self.cfg.steps:
            for group in self.opt.param_groups:
                group["lr"] = self.cfg.lr_at(self.step)
            start = time.perf_counter()
            yield self.step
            self.seconds += time.perf_counter() - start
            self.step += 1
            bar.update(1)
            if self.step % 200 == 0 or self.step == self.cfg.steps:
                self.save()
        bar.close()

    def backward(self, loss_fn: Callable[[], torch.Tensor]) -> float:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.cfg.bf16):
            loss = loss_fn()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()
        return float(loss.detach())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
