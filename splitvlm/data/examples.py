"""The bundled sample images (examples/): camera-style 512x512 JPEGs with known answers.

`write_examples(directory)` regenerates them byte for byte; a test checks the shipped ones.
"""

from __future__ import annotations

import json
from pathlib import Path

from splitvlm.data.camera import camera_image, encode_image
from splitvlm.data.questions import ask
from splitvlm.data.sets import rng_for

EXAMPLE_STREAM = 3  # its own seed stream: neither training nor the held-out set
EXAMPLE_QUESTIONS = ("caption", "count", "where", "relate")
N_EXAMPLES = 3


def example_questions(n: int = N_EXAMPLES) -> list[dict[str, object]]:
    """Per image: file name, scene-derived questions and expected answers."""
    from splitvlm.data.scenes import sample_scene

    out = []
    for i in range(n):
        rng = rng_for(EXAMPLE_STREAM, i)
        scene = sample_scene(rng)
        while len(scene.objects) < 3:
            scene = sample_scene(rng)
        qas = [qa for t in EXAMPLE_QUESTIONS if (qa := ask(scene, t, rng)) is not None]
        out.append({"file": f"scene-{i}.jpg",
                    "questions": [{"question": q.question, "answer": q.answer} for q in qas],
                    "_scene": scene})
    return out


def write_examples(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    manifest = []
    for i, entry in enumerate(example_questions()):
        scene = entry.pop("_scene")
        rng = rng_for(EXAMPLE_STREAM, 1000 + i)
        (directory / str(entry["file"])).write_bytes(encode_image(camera_image(scene, rng)))  # type: ignore[arg-type]
        manifest.append(entry)
    (directory / "examples.json").write_text(json.dumps(manifest, indent=2) + "\n")
