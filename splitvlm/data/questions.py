"""shapes-vqa v1 questions: the nine types of ../shared/shapes-vqa.md and their answers.

`ask(scene, qtype, rng)` returns a `QA` or None when the scene does not allow that type
(e.g. `color` needs a shape that occurs exactly once); `sample_qa` retries with new scenes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from splitvlm.data.scenes import (
    CELL_NAMES,
    COLOR_NAMES,
    GRID,
    SHAPES,
    Scene,
    SceneObject,
    sample_scene,
)

QTYPES = ("color", "shape", "where", "size", "count", "exist", "caption", "relate", "compare")
NUMBERS = ("zero", "one", "two", "three", "four", "five")
RELATIONS = {"left of": (0, -1), "right of": (0, 1), "above": (-1, 0), "below": (1, 0)}


@dataclass(frozen=True)
class QA:
    qtype: str
    question: str
    answer: str


def _once(values: list[str]) -> list[str]:
    counts = Counter(values)
    return sorted(v for v, n in counts.items() if n == 1)


def _unique_pairs(scene: Scene) -> list[SceneObject]:
    pairs = Counter((o.color, o.shape) for o in scene.objects)
    return [o for o in scene.objects if pairs[(o.color, o.shape)] == 1]


def _pick(rng: np.random.Generator, items: list | tuple):  # type: ignore[no-untyped-def]
    return items[int(rng.integers(len(items)))]


def describe(obj: SceneObject) -> str:
    return f"a {obj.color} {obj.shape}"


def _color(scene: Scene, rng: np.random.Generator) -> QA | None:
    shapes = _once([o.shape for o in scene.objects])
    if not shapes:
        return None
    shape = _pick(rng, shapes)
    obj = next(o for o in scene.objects if o.shape == shape)
    return QA("color", f"what color is the {shape} ?", obj.color)


def _shape(scene: Scene, rng: np.random.Generator) -> QA | None:
    colors = _once([o.color for o in scene.objects])
    if not colors:
        return None
    color = _pick(rng, colors)
    obj = next(o for o in scene.objects if o.color == color)
    return QA("shape", f"what shape is the {color} object ?", obj.shape)


def _where(scene: Scene, rng: np.random.Generator) -> QA | None:
    objs = _unique_pairs(scene)
    if not objs:
        return None
    obj = _pick(rng, objs)
    return QA("where", f"where is the {obj.color} {obj.shape} ?", CELL_NAMES[obj.cell])


def _size(scene: Scene, rng: np.random.Generator) -> QA | None:
    objs = _unique_pairs(scene)
    if not objs:
        return None
    obj = _pick(rng, objs)
    return QA("size", f"what size is the {obj.color} {obj.shape} ?", obj.size)


def _count(scene: Scene, rng: np.random.Generator) -> QA:
    if rng.integers(2):
        shape = _pick(rng, SHAPES)
        n = sum(o.shape == shape for o in scene.objects)
        return QA("count", f"how many {shape}s are there ?", NUMBERS[n])
    color = _pick(rng, COLOR_NAMES)
    n = sum(o.color == color for o in scene.objects)
    return QA("count", f"how many {color} objects are there ?", NUMBERS[n])


def _exist(scene: Scene, rng: np.random.Generator) -> QA:
    present = {(o.color, o.shape) for o in scene.objects}
    if rng.integers(2):
        color, shape = _pick(rng, sorted(present))
    else:
        absent = [(c, s) for c in COLOR_NAMES for s in SHAPES if (c, s) not in present]
        color, shape = _pick(rng, absent)
    answer = "yes" if (color, shape) in present else "no"
    return QA("exist", f"is there a {color} {shape} ?", answer)


def _caption(scene: Scene, rng: np.random.Generator) -> QA:
    return QA("caption", "describe the image", " and ".join(describe(o) for o in scene.objects))


def neighbour(scene: Scene, obj: SceneObject, relation: str) -> SceneObject | None:
    """The object in the adjacent cell in that direction, or None (empty or off the grid)."""
    drow, dcol = RELATIONS[relation]
    row, col = obj.row + drow, obj.col + dcol
    if not (0 <= row < GRID and 0 <= col < GRID):
        return None
    return scene.at(row * GRID + col)


def _relate(scene: Scene, rng: np.random.Generator) -> QA | None:
    objs = _unique_pairs(scene)
    if not objs:
        return None
    obj = _pick(rng, objs)
    pointing = [r for r in RELATIONS if neighbour(scene, obj, r) is not None]
    empty = [r for r in RELATIONS if r not in pointing]  # never empty: a cell has <= 4 sides
    if pointing and (not empty or rng.integers(2)):
        relation = _pick(rng, pointing)
    else:
        relation = _pick(rng, empty)
    other = neighbour(scene, obj, relation)
    answer = describe(other) if other is not None else "nothing"
    return QA("relate", f"what is {relation} the {obj.color} {obj.shape} ?", answer)


def _compare(scene: Scene, rng: np.random.Generator) -> QA:
    if rng.integers(2):
        a, b = rng.choice(len(SHAPES), size=2, replace=False)
        na = sum(o.shape == SHAPES[a] for o in scene.objects)
        nb = sum(o.shape == SHAPES[b] for o in scene.objects)
        question = f"are there more {SHAPES[a]}s than {SHAPES[b]}s ?"
    else:
        a, b = rng.choice(len(COLOR_NAMES), size=2, replace=False)
        na = sum(o.color == COLOR_NAMES[a] for o in scene.objects)
        nb = sum(o.color == COLOR_NAMES[b] for o in scene.objects)
        question = f"are there more {COLOR_NAMES[a]} objects than {COLOR_NAMES[b]} objects ?"
    return QA("compare", question, "yes" if na > nb else "no")


ASKERS: dict[str, Callable[[Scene, np.random.Generator], QA | None]] = {
    "color": _color,
    "shape": _shape,
    "where": _where,
    "size": _size,
    "count": _count,
    "exist": _exist,
    "caption": _caption,
    "relate": _relate,
    "compare": _compare,
}


def ask(scene: Scene, qtype: str, rng: np.random.Generator) -> QA | None:
    if qtype not in ASKERS:
        raise ValueError(f"unknown question type {qtype!r}; expected one of {QTYPES}")
    return ASKERS[qtype](scene, rng)


def sample_qa(qtype: str, rng: np.random.Generator) -> tuple[Scene, QA]:
    """A scene that allows `qtype`, and a question of that type about it."""
    while True:
        scene = sample_scene(rng)
        qa = ask(scene, qtype, rng)
        if qa is not None:
            return scene, qa
