"""A large photo's decode and downscale are priced by its size, and do not misprice the camera
frames that follow it (the edge learns a line in megapixels, not one flat number)."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from splitvlm.data.camera import encode_image
from splitvlm.data.sets import held_out_set
from splitvlm.embedded import embedded_cluster
from splitvlm.executor.builders import visual_meta
from splitvlm.sdk import AsyncClient

QUESTION = "how many circles are there ?"


def photo(frame: bytes) -> bytes:
    """The frame as a 4000x3000 JPEG (a phone photo's size)."""
    big = Image.open(io.BytesIO(frame)).convert("RGB").resize((4000, 3000))
    out = io.BytesIO()
    big.save(out, "JPEG", quality=90)
    return out.getvalue()


async def test_photos_are_priced_by_size_and_frames_stay_priced_as_frames(
        checkpoints: Path) -> None:
    frames = [encode_image(s.image(512), "JPEG") for s in held_out_set(per_type=1)[:3]]
    photos = [photo(f) for f in frames]
    preprocess = visual_meta(checkpoints)[0].preprocess
    async with embedded_cluster(checkpoints) as cluster, AsyncClient(cluster.edge_target) as c:

        async def predicted_preprocess_s(image: bytes) -> float:
            answer = await c.ask(image, QUESTION, policy=["offline"], no_cache=True)
            assert answer.plan.predicted is not None
            seconds = answer.plan.predicted.stage_s(preprocess)
            assert seconds is not None
            return seconds

        before = [await predicted_preprocess_s(f) for f in frames]
        at_photo = [await predicted_preprocess_s(p) for p in photos]
        after = [await predicted_preprocess_s(f) for f in frames]
    # 46x the pixels of a 512x512 frame; decoded at a reduced scale (1/4 a side), a photo
    # costs ~4x a frame, as the edge learns from the first one
    assert min(at_photo) > 2 * max(before)
    assert max(after) < 3 * max(before)  # three photos do not reprice the next frames
