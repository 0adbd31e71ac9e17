"""Phase 2: train one LM per tier on the frozen visual side's tokens.

The visual side is encoded once over a pool of training scenes (its tokens cached in memory);
each step then draws questions about pooled scenes. Caption batches and short-answer batches
are kept apart so that short answers are not padded to caption length.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from splitvlm.checkpoints import lm_name
from splitvlm.data.questions import QA, QTYPES, ask, sample_qa
from splitvlm.data.scenes import Scene
from splitvlm.data.sets import TRAIN_STREAM, Sample, rng_for
from splitvlm.data.tokenizer import Tokenizer
from splitvlm.evaluate import Score, score
from splitvlm.model import zoo
from splitvlm.model.lm import LM
from splitvlm.model.vlm import VisualSide
from splitvlm.training.grow import grow
from splitvlm.training.loop import Run, TrainConfig, log
from splitvlm.training.mining import HardSet, Mining, mine, weakness_weights
from splitvlm.training.visual import training_image

POOL_SCENES = 24_000
POOL_STREAM_OFFSET = 50_000_000  # pool scenes come from training indices far past phase 1's
CAPTION_BATCH_SHARE = 0.25
# Short-answer types, weighted towards the compositional ones.
SHORT_WEIGHTS = {t: 1.0 for t in QTYPES if t != "caption"} | {"relate": 2.0, "compare": 2.0}
IGNORE = -100


@dataclass(frozen=True)
class Mix:
    """What the training batches ask: short-answer types by weight, and the share of batches
    that are captions."""

    weights: Mapping[str, float]
    caption_share: float

    def __post_init__(self) -> None:
        short = set(QTYPES) - {"caption"}
        if not set(self.weights) <= short:
            raise ValueError(f"mix weights name {sorted(set(self.weights) - short)}; they weigh "
                             f"the short-answer types {sorted(short)} (captions come by "
                             "caption_share)")
        if min(self.weights.values(), default=0.0) < 0 or not 0 <= self.caption_share <= 1:
            raise ValueError(f"mix weights must be >= 0 and caption_share in 0..1: {self}")


PRETRAIN = Mix(SHORT_WEIGHTS, CAPTION_BATCH_SHARE)


@torch.no_grad()
def encode_pool(visual: VisualSide, n: int, chunk: int = 256) -> tuple[list[Scene], torch.Tensor]:
    """n training scenes (a quarter camera-style) and their visual tokens (n, N', Dl)."""
    from splitvlm.data.scenes import sample_scene

    rng = rng_for(TRAIN_STREAM, POOL_STREAM_OFFSET)
    scenes = [sample_scene(rng) for _ in range(n)]  # the same as encode_pool_scenes(n)
    size = visual.cfg.vision.image_size
    out = []
    for start in range(0, n, chunk):
        images = [training_image(s, rng, size, (start + i) % 4 == 0)
                  for i, s in enumerate(scenes[start:start + chunk])]
        out.append(visual(torch.from_numpy(np.stack(images))))
    return scenes, torch.cat(out)


def encode_pool_scenes(n: int) -> list[Scene]:
    """The pool's scenes alone (their tokens were cached by an earlier encode_pool)."""
    from splitvlm.data.scenes import sample_scene

    rng = rng_for(TRAIN_STREAM, POOL_STREAM_OFFSET)
    return [sample_scene(rng) for _ in range(n)]


def question_batch(
    scenes: list[Scene], n: int, caption: bool, rng: np.random.Generator, tok: Tokenizer,
    weights: Mapping[str, float] = SHORT_WEIGHTS, replay: Sequence[tuple[int, QA]] = (),
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(scene indices (B,), ids (B, T) right-padded, labels (B, T) with IGNORE off-answer).
    The `replay` questions (pool scene index, QA) come first; the rest are drawn by `weights`."""
    types = list(weights)
    p = np.array([weights[t] for t in types])
    asked = list(replay[:n])
    while len(asked) < n:
        qtype = "caption" if caption else types[int(rng.choice(len(types), p=p / p.sum()))]
        i = int(rng.integers(len(scenes)))
        qa = ask(scenes[i], qtype, rng)
        if qa is not None:
            asked.append((i, qa))
    rows = [(tok.encode(qa.question) + [tok.ans_id], tok.encode(qa.answer) + [tok.eos_id])
            for _, qa in asked]
    index = [i for i, _ in asked]
    width = max(len(q) + len(a) for q, a in rows)
    ids = torch.full((n, width), tok.pad_id, dtype=torch.long)
    labels = torch.full((n, width), IGNORE, dtype=torch.long)
    for r, (q, a) in enumerate(rows):
        ids[r, :len(q) + len(a)] = torch.tensor(q + a)
        labels[r, len(q):len(q) + len(a)] = torch.tensor(a)
    return torch.tensor(index), ids, labels


def answer_loss(lm: LM, visual: torch.Tensor, ids: torch.Tensor, labels: torch.Tensor
                ) -> torch.Tensor:
    n_visual = visual.shape[1]
    logits = lm.sequence_logits(visual, ids)  # (B, N'+T, V)
    # The logit at sequence position N'+j-1 predicts ids[j].
    pred = logits[:, n_visual - 1:n_visual - 1 + ids.shape[1]]  # (B, T, V)
    return F.cross_entropy(pred.reshape(-1, pred.shape[-1]).float(), labels.reshape(-1),
                           ignore_index=IGNORE)


VALID_STREAM = 8  # a validation stream: neither training pools nor the held-out test set
VALID_PER_TYPE = 20


@torch.no_grad()
def validation_set(visual: VisualSide) -> tuple[list[Sample], torch.Tensor]:
    rng = rng_for(VALID_STREAM, 0)
    samples = [Sample(*sample_qa(t, rng)) for _ in range(VALID_PER_TYPE) for t in QTYPES]
    pixels = torch.from_numpy(np.stack([s.image(visual.cfg.vision.image_size) for s in samples]))
    return samples, visual(pixels)


@torch.no_grad()
def validation_accuracy(lm: LM, valid: tuple[list[Sample], torch.Tensor]) -> Score:
    samples, tokens = valid
    tok = Tokenizer()
    prompts = [tok.encode(s.qa.question) + [tok.ans_id] for s in samples]
    lm.eval()
    ids = lm.generate(tokens, prompts, tok.pad_id, tok.eos_id)
    lm.train()
    return score(samples, [tok.decode(row) for row in ids])


def train_lm(tier: str, cfg: TrainConfig, ckpt_dir: Path, run_dir: Path) -> dict[str, object]:
    """Train the tier's LM from scratch (or on from its state in `run_dir`)."""
    torch.manual_seed(cfg.seed)
    visual = zoo.load_visual(ckpt_dir)
    lm = LM(zoo.lm_config(tier, visual.cfg))
    lm.set_cell_head(*visual.cell_head_params())
    run = Run(lm, cfg, run_dir / f"lm-{tier}-state.pt")
    _train(tier, lm, run, visual, ckpt_dir, run_dir, PRETRAIN, stream=7)
    return _save(tier, lm, ckpt_dir, steps=run.step, seconds=run.seconds)


def finetune_lm(tier: str, cfg: TrainConfig, mix: Mix, ckpt_dir: Path, run_dir: Path,
                mining: Mining | None = None) -> dict[str, object]:
    """Train the tier's LM on from its checkpoint in `ckpt_dir` with another question mix (a
    fresh optimizer and schedule, resumable from `run_dir`; with `mining`, re-weighted and
    replaying its mistakes as in growth); the checkpoint's step and time counts grow by this
    leg's, and its JSON records the leg."""
    torch.manual_seed(cfg.seed)
    before = zoo.read_meta(ckpt_dir / lm_name(tier))
    lm = zoo.load_lm(tier, ckpt_dir)
    run = Run(lm, cfg, run_dir / f"lm-{tier}-finetune-state.pt")
    _train(tier, lm, run, zoo.load_visual(ckpt_dir), ckpt_dir, run_dir, mix, stream=8,
           mining=mining)
    legs = [*before.get("finetune", []), {"steps": run.step, "lr": cfg.lr,
                                          "weights": dict(mix.weights),
                                          "caption_share": mix.caption_share}
            | ({} if mining is None else {"mining": dataclasses.asdict(mining)})]
    kept = {k: before[k] for k in ("grown_from", "growth") if k in before}  # its history
    return _save(tier, lm, ckpt_dir, steps=int(before["train_steps"]) + run.step,
                 seconds=float(before["train_seconds"]) + run.seconds, finetune=legs, **kept)


def grow_lm(tier: str, source: str, cfg: TrainConfig, mix: Mix, mining: Mining, noise: float,
            ckpt_dir: Path, run_dir: Path) -> dict[str, object]:
    """Grow the `source` tier's LM (from `ckpt_dir`) to this tier's size, function-preserving,
    then train it on the source's weaknesses (hard-example mining); resumable from `run_dir`."""
    torch.manual_seed(cfg.seed)
    visual = zoo.load_visual(ckpt_dir)
    before = zoo.read_meta(ckpt_dir / lm_name(source))
    lm = grow(zoo.load_lm(source, ckpt_dir), zoo.lm_config(tier, visual.cfg), noise, cfg.seed)
    lm.set_cell_head(*visual.cell_head_params())
    run = Run(lm, cfg, run_dir / f"lm-{tier}-grow-state.pt")
    _train(tier, lm, run, visual, ckpt_dir, run_dir, mix, stream=9, mining=mining)
    grown_from = {"tier": source, "hash": before["hash"], "n_params": before["n_params"],
                  "train_steps": before["train_steps"], "train_seconds": before["train_seconds"]}
    return _save(tier, lm, ckpt_dir, steps=run.step, seconds=run.seconds, grown_from=grown_from,
                 growth={"lr": cfg.lr, "bf16": cfg.bf16, "noise": noise,
                         "caption_share": mix.caption_share, "mining": dataclasses.asdict(mining)})


def _train(tier: str, lm: LM, run: Run, visual: VisualSide, ckpt_dir: Path, run_dir: Path,
           mix: Mix, stream: int, mining: Mining | None = None) -> None:
    """Run's remaining steps on questions drawn by `mix` about the cached pool's scenes. With
    `mining`, the LM is asked about fresh pool questions every `mining.every` steps: the mix is
    re-weighted toward the types it misses, and a share of each batch replays what it missed."""
    log(f"lm {tier}: {zoo.n_params(lm)} parameters; encoding {POOL_SCENES} pool scenes")
    scenes, pool = _pool(visual, ckpt_dir, run_dir)
    valid = validation_set(visual)
    rng = np.random.default_rng([TRAIN_STREAM, stream, run.step])
    tok, hard = Tokenizer(), HardSet()
    lm.train()
    for step in run.steps(f"lm-{tier}"):
        if mining is not None and (step % mining.every == 0 or not hard.items):
            mix = _remine(tier, lm, scenes, pool, mining, hard, mix, rng)
        caption = rng.random() < mix.caption_share
        replay = [] if mining is None else hard.draw(
            round(run.cfg.batch_size * mining.replay_share), rng, caption)
        index, ids, labels = question_batch(scenes, run.cfg.batch_size, caption, rng, tok,
                                            mix.weights, replay)
        loss = run.backward(partial(answer_loss, lm, pool[index], ids, labels))
        if (step + 1) % run.cfg.eval_every == 0:
            acc = validation_accuracy(lm, valid)
            log(f"lm {tier} step {step + 1}: loss {loss:.4f} validation {acc.overall:.4f} "
                + " ".join(f"{t}={a:.2f}" for t, a in acc.by_type.items()))
    lm.eval()


def _pool(visual: VisualSide, ckpt_dir: Path, run_dir: Path) -> tuple[list[Scene], torch.Tensor]:
    pool_path = run_dir / f"pool-{zoo.read_meta(ckpt_dir / 'visual')['hash']}-{POOL_SCENES}.pt"
    if pool_path.exists():  # every LM trains on the same pool: encode it once
        return encode_pool_scenes(POOL_SCENES), torch.load(pool_path)
    scenes, pool = encode_pool(visual, POOL_SCENES)
    run_dir.mkdir(parents=True, exist_ok=True)
    torch.save(pool, pool_path)
    return scenes, pool


def _remine(tier: str, lm: LM, scenes: list[Scene], pool: torch.Tensor, mining: Mining,
            hard: HardSet, mix: Mix, rng: np.random.Generator) -> Mix:
    mined = mine(lm, scenes, pool, mining.per_type, rng)
    hard.replace(mined.missed)
    weights = weakness_weights(mined.error_by_type)
    log(f"lm {tier} mined {len(mined.missed)} missed of {mining.per_type * len(QTYPES)}: "
        + " ".join(f"{t}={1 - e:.3f}" for t, e in mined.error_by_type.items()))
    return Mix(weights, mix.caption_share)


def _save(tier: str, lm: LM, ckpt_dir: Path, steps: int, seconds: float, **meta: object
          ) -> dict[str, object]:
    return zoo.save(lm, lm.cfg, ckpt_dir / lm_name(tier),
                    visual_hash=zoo.read_meta(ckpt_dir / "visual")["hash"], tier=tier,
                    n_params=zoo.n_params(lm), train_steps=steps,
                    train_seconds=round(seconds, 1), **meta)
