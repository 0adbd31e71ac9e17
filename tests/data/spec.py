"""shapes-vqa v1 restated from the spec (shared/shapes-vqa.md), independently of splitvlm.data.

The tests recompute answers and geometry with this module. It reads scene objects only through
their fields (cell, shape, color, size, dx, dy; background) and never calls generator helpers.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

SHAPES = ("circle", "square", "triangle")
COLORS = {
    "red": (220, 40, 40),
    "green": (40, 190, 60),
    "blue": (50, 90, 235),
    "yellow": (230, 220, 40),
    "purple": (150, 60, 200),
    "orange": (245, 140, 30),
}
SIZE_RADIUS = {"small": 0.22, "large": 0.42}  # x cell side
SQUARE_HALF_SIDE = 0.85  # x radius
TRIANGLE_BASE_BELOW = 0.8  # x radius; the apex is taken at 1 radius above the centre
JITTER = 0.4  # x free slack (0.5 cell - radius)
MAX_BACKGROUND = 60
CELL_NAMES = (
    "top left", "top", "top right",
    "left", "center", "right",
    "bottom left", "bottom", "bottom right",
)
NUMBERS = ("zero", "one", "two", "three", "four", "five")
RELATIONS = {"left of": (0, -1), "right of": (0, 1), "above": (-1, 0), "below": (1, 0)}
QTYPES = ("color", "shape", "where", "size", "count", "exist", "caption", "relate", "compare")


def _any(words: Any) -> str:
    return "|".join(re.escape(w) for w in words)


_C, _S, _R = _any(COLORS), _any(SHAPES), _any(RELATIONS)
PATTERNS = {
    "color": rf"what color is the (?P<shape>{_S}) \?",
    "shape": rf"what shape is the (?P<color>{_C}) object \?",
    "where": rf"where is the (?P<color>{_C}) (?P<shape>{_S}) \?",
    "size": rf"what size is the (?P<color>{_C}) (?P<shape>{_S}) \?",
    "count": rf"how many (?:(?P<shape>{_S})s|(?P<color>{_C}) objects) are there \?",
    "exist": rf"is there a (?P<color>{_C}) (?P<shape>{_S}) \?",
    "caption": r"describe the image",
    "relate": rf"what is (?P<relation>{_R}) the (?P<color>{_C}) (?P<shape>{_S}) \?",
    "compare": (
        rf"are there more (?:(?P<shape_a>{_S})s than (?P<shape_b>{_S})s"
        rf"|(?P<color_a>{_C}) objects than (?P<color_b>{_C}) objects) \?"
    ),
}


def parse(qtype: str, question: str) -> dict[str, str]:
    """The slots of a question; AssertionError when it does not follow its spec template."""
    match = re.fullmatch(PATTERNS[qtype], question)
    assert match is not None, f"{qtype} question {question!r} does not follow the spec"
    return {k: v for k, v in match.groupdict().items() if v is not None}


def matching(objects: Any, color: str | None = None, shape: str | None = None) -> list[Any]:
    return [o for o in objects if color in (None, o.color) and shape in (None, o.shape)]


def name(obj: Any) -> str:
    return f"a {obj.color} {obj.shape}"


def neighbour(objects: Any, obj: Any, relation: str) -> Any | None:
    """The object in the adjacent cell (row-major 3x3), None when empty or off the grid."""
    drow, dcol = RELATIONS[relation]
    row, col = obj.cell // 3 + drow, obj.cell % 3 + dcol
    if not (0 <= row < 3 and 0 <= col < 3):
        return None
    found = [o for o in objects if o.cell == row * 3 + col]
    return found[0] if found else None


def asked_when(scene: Any, qtype: str, question: str) -> bool:
    """The spec's "asked when" column for this question about this scene."""
    q, objs = parse(qtype, question), scene.objects
    if qtype == "color":
        return len(matching(objs, shape=q["shape"])) == 1
    if qtype == "shape":
        return len(matching(objs, color=q["color"])) == 1
    if qtype in ("where", "size", "relate"):
        return len(matching(objs, q["color"], q["shape"])) == 1
    if qtype == "compare":
        return q.get("shape_a", q.get("color_a")) != q.get("shape_b", q.get("color_b"))
    return True


def reference_answer(scene: Any, qtype: str, question: str) -> str:
    """The answer the spec gives, for a question whose "asked when" condition holds."""
    q, objs = parse(qtype, question), scene.objects
    one = matching(objs, q.get("color"), q.get("shape"))
    if qtype == "color":
        return str(one[0].color)
    if qtype == "shape":
        return str(one[0].shape)
    if qtype == "where":
        return CELL_NAMES[one[0].cell]
    if qtype == "size":
        return str(one[0].size)
    if qtype == "count":
        return NUMBERS[len(one)]
    if qtype == "exist":
        return "yes" if one else "no"
    if qtype == "caption":
        return " and ".join(name(o) for o in sorted(objs, key=lambda o: o.cell))
    if qtype == "relate":
        other = neighbour(objs, one[0], q["relation"])
        return "nothing" if other is None else name(other)
    if "shape_a" in q:
        na, nb = (len(matching(objs, shape=q[k])) for k in ("shape_a", "shape_b"))
    else:
        na, nb = (len(matching(objs, color=q[k])) for k in ("color_a", "color_b"))
    return "yes" if na > nb else "no"


def spec_words() -> set[str]:
    """Every word a v1 question or answer can use: template words and slot values."""
    fixed = (
        "what color is the ? shape object objects where size how many are there a and "
        "describe image yes no nothing more than small large"
    )
    values = [*SHAPES, *(s + "s" for s in SHAPES), *COLORS, *NUMBERS, *CELL_NAMES, *RELATIONS]
    return set(fixed.split()) | {w for v in values for w in v.split()}


# --- geometry -------------------------------------------------------------------------------

def centre_px(obj: Any, size: int) -> tuple[float, float]:
    """(x, y) of the object's centre in pixels: cell centre + jitter (fractions of a cell)."""
    cell = size / 3
    return (obj.cell % 3 + 0.5 + obj.dx) * cell, (obj.cell // 3 + 0.5 + obj.dy) * cell


def radius_px(obj: Any, size: int) -> float:
    return SIZE_RADIUS[obj.size] * size / 3


def cell_window(cell: int, size: int) -> tuple[slice, slice]:
    """Rows and columns of the pixels whose centres lie inside the cell."""
    def lo(k: int) -> int:
        return int(np.ceil(k * size / 3 - 0.5))

    row, col = divmod(cell, 3)
    return slice(lo(row), lo(row + 1)), slice(lo(col), lo(col + 1))


def regions(obj: Any, size: int, margin: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Over the object's cell window: pixels surely inside / surely outside its shape.

    The spec leaves a triangle's base width open; assumed here: straight sides from the apex,
    half the base between 0.5 and 1 radius.
    """
    rows, cols = cell_window(obj.cell, size)
    cx, cy = centre_px(obj, size)
    r = radius_px(obj, size)
    y = np.arange(rows.start, rows.stop)[:, None] + 0.5 - cy  # (h, 1)
    x = np.abs(np.arange(cols.start, cols.stop)[None, :] + 0.5 - cx)  # (1, w)
    if obj.shape == "circle":
        d = np.hypot(x, y)
        return d <= r - margin, d >= r + margin
    if obj.shape == "square":
        cheb = np.maximum(x, np.abs(y))
        half = SQUARE_HALF_SIDE * r
        return cheb <= half - margin, cheb >= half + margin
    base = TRIANGLE_BASE_BELOW * r
    widest = (y + r) / (r + base) * r  # half width at row y if the half base were 1 radius
    inside = (y >= -r + margin) & (y <= base - margin) & (x <= 0.5 * widest - margin)
    outside = (y <= -r - margin) | (y >= base + margin) | (x >= widest + margin)
    return inside, outside


def read_cells(image: np.ndarray) -> list[tuple[str, str, str] | None]:
    """Each cell's (color, shape, size) read back from exact pixels; None for an empty cell."""
    size = image.shape[0]
    background = image[0, 0]  # objects never reach a cell's corner
    by_rgb = {rgb: c for c, rgb in COLORS.items()}
    out: list[tuple[str, str, str] | None] = []
    for cell in range(9):
        window = image[cell_window(cell, size)]
        mask = (window != background).any(axis=-1)
        if not mask.any():
            out.append(None)
            continue
        rgb = window[mask][0]
        assert (window[mask] == rgb).all(), f"cell {cell} holds several colours"
        ys, xs = np.nonzero(mask)
        box = mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
        # a triangle's mass sits 1/6 of its height below its box's middle; a circle's does not
        sag = (ys.mean() - ys.min()) / max(box.shape[0] - 1, 1) - 0.5
        if box.mean() > 0.97:
            shape = "square"
        elif sag > 0.09:
            shape = "triangle"
        else:
            shape = "circle"
        height = box.shape[0] / (size / 3)  # small <= 0.44 cell, large >= 0.71 cell
        color = by_rgb[(int(rgb[0]), int(rgb[1]), int(rgb[2]))]
        out.append((color, shape, "small" if height < 0.58 else "large"))
    return out
