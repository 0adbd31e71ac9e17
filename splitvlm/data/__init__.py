"""shapes-vqa v1: scenes, questions, fixed sets and the word tokenizer (numpy only)."""

from splitvlm.data.questions import QA, QTYPES, ask, sample_qa
from splitvlm.data.scenes import Scene, SceneObject, render, sample_scene
from splitvlm.data.sets import Sample, cell_targets, held_out_set, train_samples
from splitvlm.data.tokenizer import Tokenizer

__all__ = [
    "QA", "QTYPES", "Sample", "Scene", "SceneObject", "Tokenizer", "ask", "cell_targets",
    "render", "sample_qa", "sample_scene", "held_out_set", "train_samples",
]
