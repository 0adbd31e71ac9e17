"""Frame sources, one class per kind behind one protocol: each turns what it reads into
model-resolution pixels and hands them to `emit` as they come.

    source = source_for(config, image_size)        # DirectorySource, VideoSource, GrpcSource
    await source.run(emit, stop)                   # emit(pixels, captured_unix_s) per frame

- DirectorySource: new JPEG/PNG files in a directory, watched with watchfiles (inotify).
- VideoSource: a video file or stream URL decoded with PyAV, at the stream's rate (realtime).
- GrpcSource: frames local apps send through AgentService.SubmitFrame; it reads nothing itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import numpy as np

from edge.agent.config import SourceConfig
from splitvlm.data.camera import decode_for_model, downscale
from splitvlm.errors import ImageError

log = logging.getLogger("splitvlm.agent")
Emit = Callable[[np.ndarray, float], None]
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
PARTIAL_RETRIES = 5  # a file still being written fails to decode: try again ...
PARTIAL_WAIT_S = 0.05  # ... after this long


class FrameSource(Protocol):
    async def run(self, emit: Emit, stop: asyncio.Event) -> None:
        """Emit frames until `stop` is set or the source ends."""
        ...


class DirectorySource:
    def __init__(self, path: Path, image_size: int) -> None:
        self.path, self.image_size = path, image_size

    async def run(self, emit: Emit, stop: asyncio.Event) -> None:
        from watchfiles import Change, awatch

        if not self.path.is_dir():
            raise FileNotFoundError(f"{self.path} is not a directory")
        async for changes in awatch(self.path, stop_event=stop, recursive=False,
                                    debounce=50, step=10):
            for change, name in sorted(changes, key=lambda c: c[1]):
                if change is Change.added and name.lower().endswith(IMAGE_SUFFIXES):
                    pixels = await self._read(Path(name))
                    if pixels is not None:
                        emit(pixels, time.time())

    async def _read(self, path: Path) -> np.ndarray | None:
        for _ in range(PARTIAL_RETRIES):
            try:
                return decode_for_model(path.read_bytes(), self.image_size)[0]
            except (ImageError, OSError) as exc:
                error = exc
                await asyncio.sleep(PARTIAL_WAIT_S)
        log.warning("skipped %s: %s", path, error)
        return None


class VideoSource:
    def __init__(self, url: str, image_size: int, realtime: bool, loop: bool) -> None:
        self.url, self.image_size, self.realtime, self.loop = url, image_size, realtime, loop

    async def run(self, emit: Emit, stop: asyncio.Event) -> None:
        import av

        while not stop.is_set():
            container = await asyncio.to_thread(av.open, self.url)
            try:
                frames = container.decode(video=0)
                t0 = time.monotonic()
                while not stop.is_set():
                    frame = await asyncio.to_thread(self._next, frames)
                    if frame is None:
                        break
                    pixels, at = frame
                    if self.realtime and (wait := t0 + at - time.monotonic()) > 0:
                        await asyncio.sleep(wait)
                    emit(pixels, time.time())
            finally:
                container.close()
            if not self.loop:
                return

    def _next(self, frames: object) -> tuple[np.ndarray, float] | None:
        try:
            frame = next(frames)  # type: ignore[call-overload]
        except StopIteration:
            return None
        at = float(frame.time or 0.0)
        return downscale(frame.to_ndarray(format="rgb24"), self.image_size), at


class GrpcSource:
    """Frames arrive through AgentService.SubmitFrame (edge.agent.service)."""

    async def run(self, emit: Emit, stop: asyncio.Event) -> None:
        await stop.wait()


def source_for(config: SourceConfig, image_size: int) -> FrameSource:
    if config.kind == "directory":
        return DirectorySource(Path(config.path), image_size)
    if config.kind == "video":
        return VideoSource(config.path, image_size, config.realtime, config.loop)
    return GrpcSource()
