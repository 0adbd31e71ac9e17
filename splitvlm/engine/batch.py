"""The running batch's KV cache: one tensor, rows left-padded to a common length.

Row r of the cache belongs to `rows[r]`. A row holds [pads | visual | pads | prompt | answer];
every pad is a masked key, and position ids travel with the requests, so a row attends to what
it would attend to alone (as in LM.generate's left padding). Joining rows are left-padded to
the batch length (or the batch to theirs); when rows leave, columns no row uses are cut.
"""

from __future__ import annotations

import torch

from splitvlm.engine.request import Request
from splitvlm.model.lm import KV


class RunningBatch:
    def __init__(self) -> None:
        self.rows: list[Request] = []
        self.past: KV | None = None  # keys, values: each (L, B, H, T, hd)
        self.key_valid = torch.zeros(0, 0, dtype=torch.bool)  # (B, T) real keys

    def clear(self) -> None:
        self.rows, self.past = [], None
        self.key_valid = torch.zeros(0, 0, dtype=torch.bool)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        """T: columns of the cache, the longest row plus its left padding."""
        return self.key_valid.shape[1]

    def add(self, rows: list[Request], past: KV, key_valid: torch.Tensor) -> None:
        """Append rows with their cache (L, b, H, t, hd) and key_valid (b, t)."""
        if self.past is None:
            self.rows, self.past, self.key_valid = list(rows), past, key_valid
            return
        width = max(self.width, key_valid.shape[1])
        old, old_valid = _pad_left(self.past, self.key_valid, width)
        new, new_valid = _pad_left(past, key_valid, width)
        self.past = (torch.cat([old[0], new[0]], 1), torch.cat([old[1], new[1]], 1))
        self.key_valid = torch.cat([old_valid, new_valid], 0)  # (B + b, T)
        self.rows += rows

    def update(self, past: KV, key_valid: torch.Tensor) -> None:
        """After a decode step: the cache (L, B, H, T+1, hd) and key_valid (B, T+1)."""
        self.past, self.key_valid = past, key_valid

    def remove(self, gone: list[Request]) -> None:
        """Drop the rows of `gone` (requests not in the batch are ignored)."""
        ids = {id(r) for r in gone}
        keep = [i for i, r in enumerate(self.rows) if id(r) not in ids]
        if len(keep) == len(self.rows):
            return
        if not keep:
            self.clear()
            return
        assert self.past is not None
        index = torch.tensor(keep)
        self.rows = [self.rows[i] for i in keep]
        valid = self.key_valid[index]  # (B', T)
        first = int(valid.any(0).long().argmax())  # first column some row still uses
        self.key_valid = valid[:, first:]
        self.past = (self.past[0][:, index, :, first:], self.past[1][:, index, :, first:])


def select_rows(past: KV, key_valid: torch.Tensor, rows: list[int]) -> tuple[KV, torch.Tensor]:
    """The cache and key_valid of some rows of a prefill group."""
    index = torch.tensor(rows)
    return (past[0][:, index], past[1][:, index]), key_valid[index]


def _pad_left(past: KV, key_valid: torch.Tensor, width: int) -> tuple[KV, torch.Tensor]:
    """Left-pad a cache (L, B, H, t, hd) and key_valid (B, t) with masked columns to `width`."""
    extra = width - key_valid.shape[1]
    if extra == 0:
        return past, key_valid
    k, v = past
    pad = k.new_zeros(*k.shape[:3], extra, k.shape[4])  # (L, B, H, extra, hd)
    valid = key_valid.new_zeros(key_valid.shape[0], extra)  # (B, extra)
    return (torch.cat([pad, k], 3), torch.cat([pad, v], 3)), torch.cat([valid, key_valid], 1)
