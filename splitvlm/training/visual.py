"""Phase 1: pretrain the visual side alone on dense per-cell targets.

Each of the resampler's 9 queries learns to read one grid cell; the cell head predicts
occupied / shape / colour / size there. Fresh scenes every step (the generator is fast).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from splitvlm.data.camera import camera_image, downscale
from splitvlm.data.scenes import Scene, render, sample_scene
from splitvlm.data.sets import TEST_STREAM, TRAIN_STREAM, cell_targets, rng_for
from splitvlm.model import zoo
from splitvlm.model.vlm import VisualConfig, VisualSide
from splitvlm.training.loop import Run, TrainConfig, log

EVAL_SCENES = 1000


CAMERA_FRACTION = 0.25  # share of each batch drawn like a camera: larger, noisy, downscaled
CAMERA_SCALES = (2, 3)  # camera side = scale x model side (box filter back down)


def training_image(scene: Scene, rng: np.random.Generator, size: int, camera: bool) -> np.ndarray:
    if not camera:
        return render(scene, size)
    scale = CAMERA_SCALES[int(rng.integers(len(CAMERA_SCALES)))]
    return downscale(camera_image(scene, rng, size * scale), size)


def scene_batch(
    n: int, rng: np.random.Generator, size: int, camera_fraction: float = CAMERA_FRACTION
) -> tuple[torch.Tensor, torch.Tensor]:
    scenes = [sample_scene(rng) for _ in range(n)]
    n_camera = int(n * camera_fraction)
    images = [training_image(s, rng, size, i < n_camera) for i, s in enumerate(scenes)]
    pixels = torch.from_numpy(np.stack(images))  # (B, S, S, 3) uint8
    targets = torch.from_numpy(np.stack([cell_targets(s) for s in scenes]))  # (B, 9, 4)
    return pixels, targets


def cell_loss(model: VisualSide, pixels: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = model.cell_logits(model(pixels))
    loss = torch.zeros(())
    for i, field_logits in enumerate(logits.values()):
        loss = loss + F.cross_entropy(
            field_logits.reshape(-1, field_logits.shape[-1]).float(),
            targets[..., i].reshape(-1), ignore_index=-1,
        )
    return loss


@torch.no_grad()
def cell_accuracy(model: VisualSide, n: int = EVAL_SCENES) -> float:
    """Fraction of held-out cells whose every field (occupied, and attributes) is right."""
    model.eval()
    pixels, targets = scene_batch(n, rng_for(TEST_STREAM, 10_000), model.cfg.vision.image_size)
    logits = model.cell_logits(model(pixels))
    preds = torch.stack([v.argmax(-1) for v in logits.values()], dim=-1)  # (B, 9, 4)
    right = (preds == targets) | (targets < 0)
    model.train()
    return float(right.all(-1).float().mean())


def train_visual(cfg: TrainConfig, out_dir: Path, run_dir: Path) -> dict[str, object]:
    torch.manual_seed(cfg.seed)
    model = VisualSide(VisualConfig())
    run = Run(model, cfg, run_dir / "visual-state.pt")
    size = model.cfg.vision.image_size
    model.train()
    for step in run.steps("visual"):
        pixels, targets = scene_batch(cfg.batch_size, rng_for(TRAIN_STREAM, step), size)
        loss = run.backward(partial(cell_loss, model, pixels, targets))
        if (step + 1) % cfg.eval_every == 0:
            log(f"visual step {step + 1}: loss {loss:.4f} cell acc {cell_accuracy(model):.4f}")
    acc = cell_accuracy(model.eval())
    log(f"visual: held-out cell accuracy {acc:.4f} after {run.seconds:.0f} s")
    return zoo.save(model, model.cfg, out_dir / "visual", cell_accuracy=acc,
                    train_steps=run.step, train_seconds=round(run.seconds, 1))
