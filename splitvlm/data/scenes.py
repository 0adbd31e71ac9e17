"""shapes-vqa v1 scenes: sampling and rendering, exactly as ../shared/shapes-vqa.md fixes them.

A scene is data (`Scene`): a background level and up to five objects, each in its own cell of a
3x3 grid. `render(scene, size)` draws it at any resolution with numpy only (no torch), fast
enough for on-the-fly training data (several thousand 64x64 scenes per second).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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
COLOR_NAMES = tuple(COLORS)
SIZES = {"small": 0.22, "large": 0.42}  # radius as a fraction of the cell side
SIZE_NAMES = tuple(SIZES)
CELL_NAMES = (
    "top left", "top", "top right",
    "left", "center", "right",
    "bottom left", "bottom", "bottom right",
)  # row-major
GRID = 3
CELL_FIELDS = {"occupied": 2, "shape": len(SHAPES), "color": len(COLOR_NAMES), "size": 2}
"""What a cell holds, as the visual side's auxiliary heads predict it: field -> classes."""
MAX_OBJECTS = 5
JITTER = 0.4  # fraction of the free slack an object may move off its cell centre
SQUARE_HALF_SIDE = 0.85  # x radius
TRIANGLE_BASE_Y = 0.8  # base this far below the centre, x radius
TRIANGLE_HALF_BASE = 0.9  # half the base width, x radius (the spec leaves it open; fixed here)


@dataclass(frozen=True)
class SceneObject:
    cell: int  # 0..8, row-major
    shape: str
    color: str
    size: str
    dx: float  # offset from the cell centre, as a fraction of the cell side
    dy: float

    @property
    def row(self) -> int:
        return self.cell // GRID

    @property
    def col(self) -> int:
        return self.cell % GRID


@dataclass(frozen=True)
class Scene:
    background: int  # gray level, 0..60
    objects: tuple[SceneObject, ...]  # sorted by cell (row-major reading order)

    def at(self, cell: int) -> SceneObject | None:
        for obj in self.objects:
            if obj.cell == cell:
                return obj
        return None


def sample_scene(rng: np.random.Generator) -> Scene:
    """Draw one scene: 1-5 objects in distinct cells, attributes uniform, jittered in the cell."""
    n = int(rng.integers(1, MAX_OBJECTS + 1))
    cells = sorted(int(c) for c in rng.choice(GRID * GRID, size=n, replace=False))
    objects = []
    for cell in cells:
        size = SIZE_NAMES[int(rng.integers(len(SIZE_NAMES)))]
        slack = 0.5 - SIZES[size]  # free room between the object and the cell edge
        dx, dy = rng.uniform(-JITTER * slack, JITTER * slack, size=2)
        objects.append(
            SceneObject(
                cell=cell,
                shape=SHAPES[int(rng.integers(len(SHAPES)))],
                color=COLOR_NAMES[int(rng.integers(len(COLOR_NAMES)))],
                size=size,
                dx=float(dx),
                dy=float(dy),
            )
        )
    return Scene(background=int(rng.integers(0, 61)), objects=tuple(objects))


@lru_cache(maxsize=8)
def _pixel_centres(size: int) -> np.ndarray:
    return np.arange(size, dtype=np.float32) + 0.5  # (size,)


def _mask(obj: SceneObject, size: int) -> tuple[slice, slice, np.ndarray]:
    """The object's pixels as a boolean mask over its bounding box."""
    cell_px = size / GRID
    r = SIZES[obj.size] * cell_px
    cx = (obj.col + 0.5 + obj.dx) * cell_px
    cy = (obj.row + 0.5 + obj.dy) * cell_px
    y0, y1 = max(int(cy - r), 0), min(int(np.ceil(cy + r)) + 1, size)
    x0, x1 = max(int(cx - r), 0), min(int(np.ceil(cx + r)) + 1, size)
    px = _pixel_centres(size)
    xs = px[x0:x1][None, :] - cx  # (1, w)
    ys = px[y0:y1][:, None] - cy  # (h, 1)
    if obj.shape == "circle":
        mask = xs * xs + ys * ys <= r * r
    elif obj.shape == "square":
        half = SQUARE_HALF_SIDE * r
        mask = (np.abs(xs) <= half) & (np.abs(ys) <= half)
    else:  # triangle, apex up at cy - r, base at cy + 0.8 r
        height = (1.0 + TRIANGLE_BASE_Y) * r
        half_width = TRIANGLE_HALF_BASE * r * (ys + r) / height  # (h, 1)
        mask = (ys >= -r) & (ys <= TRIANGLE_BASE_Y * r) & (np.abs(xs) <= half_width)
    return slice(y0, y1), slice(x0, x1), mask


def render(scene: Scene, size: int = 64) -> np.ndarray:
    """Draw a scene as uint8 pixels of shape (size, size, 3)."""
    image = np.full((size, size, 3), scene.background, dtype=np.uint8)
    for obj in scene.objects:
        ys, xs, mask = _mask(obj, size)
        image[ys, xs][mask] = COLORS[obj.color]
    return image
