"""Pixels against the spec geometry: centres, shape extents, background, and a read-back."""

from __future__ import annotations

import numpy as np
import pytest

from splitvlm.data import Sample, render

from . import spec

SCENES_AT = {64: 300, 512: 30}  # scenes checked per resolution


def _picked(held_out: list[Sample], size: int) -> list[Sample]:
    return held_out[: SCENES_AT[size]]


@pytest.mark.parametrize("size", sorted(SCENES_AT))
def test_image_is_uint8_rgb_of_the_requested_side(held_out: list[Sample], size: int) -> None:
    image = render(held_out[0].scene, size)
    assert image.shape == (size, size, 3) and image.dtype == np.uint8


@pytest.mark.parametrize("size", sorted(SCENES_AT))
def test_object_centre_pixel_has_its_colour(held_out: list[Sample], size: int) -> None:
    for s in _picked(held_out, size):
        image = render(s.scene, size)
        for o in s.scene.objects:
            cx, cy = spec.centre_px(o, size)
            assert tuple(image[int(cy), int(cx)]) == spec.COLORS[o.color], (o, size)


@pytest.mark.parametrize("size", sorted(SCENES_AT))
def test_shapes_fill_their_spec_region_and_nothing_beyond(
    held_out: list[Sample], size: int
) -> None:
    for s in _picked(held_out, size):
        image = render(s.scene, size)
        background = (s.scene.background,) * 3
        for o in s.scene.objects:
            window = image[spec.cell_window(o.cell, size)]
            inside, outside = spec.regions(o, size)
            assert inside.any() and outside.any()
            assert (window[inside] == spec.COLORS[o.color]).all(), (o, size)
            assert (window[outside] == background).all(), (o, size)


@pytest.mark.parametrize("size", sorted(SCENES_AT))
def test_empty_cells_are_background(held_out: list[Sample], size: int) -> None:
    for s in _picked(held_out, size):
        image = render(s.scene, size)
        occupied = {o.cell for o in s.scene.objects}
        for cell in set(range(9)) - occupied:
            assert (image[spec.cell_window(cell, size)] == s.scene.background).all()


def test_small_square_edges_at_512(held_out: list[Sample]) -> None:
    for s in held_out[:100]:
        image = render(s.scene, 512)
        for o in s.scene.objects:
            if (o.shape, o.size) != ("square", "small"):
                continue
            (cx, cy), r = spec.centre_px(o, 512), spec.radius_px(o, 512)
            half = spec.SQUARE_HALF_SIDE * r
            for sx in (-1, 1):
                for sy in (-1, 1):  # corners at 0.8 half side: inside; beyond 1.1 r: outside
                    px = image[int(cy + sy * 0.8 * half), int(cx + sx * 0.8 * half)]
                    assert tuple(px) == spec.COLORS[o.color]
                    far = image[int(cy + sy * 1.1 * r), int(cx + sx * 1.1 * r)]
                    assert (far == s.scene.background).all()
                assert (image[int(cy), int(cx + sx * 1.1 * r)] == s.scene.background).all()


def test_triangle_points_up_with_apex_and_base_rows_at_512(held_out: list[Sample]) -> None:
    checked = 0
    for s in held_out[:40]:
        image = render(s.scene, 512)
        for o in s.scene.objects:
            if o.shape != "triangle":
                continue
            (cx, cy), r = spec.centre_px(o, 512), spec.radius_px(o, 512)
            rows, cols = spec.cell_window(o.cell, 512)
            ours = (image[rows, cols] == spec.COLORS[o.color]).all(axis=-1)
            column = np.nonzero(ours[:, int(cx) - cols.start])[0] + rows.start + 0.5
            assert abs(column.min() - (cy - r)) <= 2.0  # apex: one radius above the centre
            base_y = cy + spec.TRIANGLE_BASE_BELOW * r
            assert abs(column.max() - base_y) <= 1.0  # base: 0.8 radius below the centre
            width = ours.sum(axis=1)  # coloured pixels per row
            near_apex = width[int(cy - 0.8 * r) - rows.start]
            near_base = width[int(base_y - 1) - rows.start]
            assert near_base >= 4 * max(near_apex, 1)  # narrow at the top, wide at the base
            checked += 1
    assert checked >= 10


@pytest.mark.parametrize("size", sorted(SCENES_AT))
def test_image_reads_back_as_the_scene(held_out: list[Sample], size: int) -> None:
    for s in _picked(held_out, size):
        expected: list[tuple[str, str, str] | None] = [None] * 9
        for o in s.scene.objects:
            expected[o.cell] = (o.color, o.shape, o.size)
        assert spec.read_cells(render(s.scene, size)) == expected, s.scene
