"""Synthetic camera video of shapes-vqa scenes: objects drift inside their cells, the scene
changes every `scene_s` seconds, every frame has the camera's sensor noise.

    frames = moving_scenes(np.random.default_rng(0), seconds=60, fps=30, scene_s=4.0)
    write_video("clip.mp4", frames, fps=30)       # H.264 through PyAV
    static = moving_scenes(rng, seconds=10, fps=30, scene_s=math.inf, drift=0.0)

A scene's answers hold for all its frames: an object never leaves its cell (its drift stays
inside the cell's jitter slack), so every question about a frame has its scene's answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from splitvlm.data.camera import camera_image
from splitvlm.data.scenes import JITTER, SIZES, Scene, sample_scene

DRIFT_PERIOD_S = 3.0  # an object goes round its path in this long


def moving_scenes(rng: np.random.Generator, seconds: float, fps: float = 30.0,
                  scene_s: float = 4.0, size: int = 128, drift: float = 1.0,
                  noise_sigma: float = 4.0) -> Iterator[tuple[np.ndarray, Scene]]:
    """(camera pixels (size, size, 3) uint8, the scene they show) for each frame."""
    n_frames = int(round(seconds * fps))
    scene = sample_scene(rng)
    phases = rng.uniform(0, 2 * math.pi, size=8)
    for i in range(n_frames):
        t = i / fps
        if i and math.isfinite(scene_s) and int(t // scene_s) != int((i - 1) / fps // scene_s):
            scene, phases = sample_scene(rng), rng.uniform(0, 2 * math.pi, size=8)
        moved = _drifted(scene, t, phases, drift)
        yield camera_image(moved, rng, size, noise_sigma), scene


def _drifted(scene: Scene, t: float, phases: np.ndarray, drift: float) -> Scene:
    if drift <= 0:
        return scene
    objects = []
    for k, obj in enumerate(scene.objects):
        slack = JITTER * (0.5 - SIZES[obj.size])  # the furthest an object may sit off centre
        angle = 2 * math.pi * t / DRIFT_PERIOD_S + phases[k % len(phases)]
        objects.append(replace(obj, dx=drift * slack * math.cos(angle),
                               dy=drift * slack * math.sin(angle)))
    return replace(scene, objects=tuple(objects))


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int = 30) -> int:
    """Encode frames as H.264 (yuv420p) in `path` with PyAV; the number of frames written."""
    import av

    n = 0
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for pixels in frames:
            if n == 0:
                stream.height, stream.width = pixels.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")):
                container.mux(packet)
            n += 1
        for packet in stream.encode():
            container.mux(packet)
    return n
