"""Tiny random models of each adapted family, built from configs here (no hub, a few MB):
what the tests and `splitvlm bench hf` split and compare against `transformers`' `generate`.

    directory = save_tiny("qwen2_vl", Path("/tmp/qwen"))   # safetensors, config, processor
    family = splitvlm.model.hf.load(directory)

Each has a word-level tokenizer over a few hundred words, the family's special tokens and a
chat template of the family's shape; weights are random (seeded), so answers are nonsense but
deterministic, and any difference between a split and the unsplit model shows in its tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from splitvlm.model.hf.qwen2_vl import qwen2_vl_processor

SIDE = 56  # the tiny models' input side: 4x4 patches of 14
N_WORDS = 400
LM = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 512}

_TEMPLATE = ("{% for m in messages %}{{ '" + "{user}" + "' }}{% for c in m['content'] %}"
             "{% if c['type'] == 'image' %}{{ '" + "{image}" + "' }}{% else %}{{ c['text'] }}"
             "{% endif %}{% endfor %}{{ '" + "{end}" + "' }}{% endfor %}"
             "{% if add_generation_prompt %}{{ '" + "{assistant}" + "' }}{% endif %}")


def _template(user: str, image: str, end: str, assistant: str) -> str:
    return (_TEMPLATE.replace("{user}", user).replace("{image}", image)
            .replace("{end}", end).replace("{assistant}", assistant))


def _tokenizer(specials: list[str], extra: dict[str, str] | None = None) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = [f"w{i}" for i in range(N_WORDS)]
    base = ["<pad>", "<s>", "</s>", "<unk>"]
    vocab = {w: i for i, w in enumerate(base + specials + words + ["?", "."])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(),
                                                 pre_tokenizers.Punctuation()])
    tok.decoder = decoders.WordPiece(prefix="##")
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>",
                                   extra_special_tokens=extra or {})
    fast.add_special_tokens({"additional_special_tokens": specials})
    return fast


def _lm(vocab: int, **more: Any) -> dict[str, Any]:
    return {**LM, "vocab_size": vocab, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
            **more}


def _vision(**more: Any) -> dict[str, Any]:
    return {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 3,
            "num_attention_heads": 4, "image_size": SIDE, "patch_size": 14, **more}


def _llava(tower: str = "clip") -> tuple[Any, Any]:
    from transformers import (
        CLIPImageProcessor,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
        SiglipImageProcessor,
        SiglipVisionConfig,
    )

    tok = _tokenizer(["<image>", "USER:", "ASSISTANT:"], {"image_token": "<image>"})
    strategy = "default" if tower == "clip" else "full"  # CLIP's CLS dropped; SigLIP has none
    vision: Any
    images: Any
    if tower == "clip":
        vision = CLIPVisionConfig(**_vision(projection_dim=32))
        images = CLIPImageProcessor(size={"shortest_edge": SIDE},
                                    crop_size={"height": SIDE, "width": SIDE})
    else:
        vision = SiglipVisionConfig(**_vision())
        images = SiglipImageProcessor(size={"height": SIDE, "width": SIDE})
    processor = LlavaProcessor(
        image_processor=images, tokenizer=tok, patch_size=14,
        vision_feature_select_strategy=strategy, num_additional_image_tokens=int(
            tower == "clip"),
        chat_template=_template("USER: ", "<image> ", " ", "ASSISTANT:"))
    config = LlavaConfig(**{"vision_config": vision, "text_config": LlamaConfig(**_lm(len(tok))),
                            "image_token_id": tok.convert_tokens_to_ids("<image>"),
                            "vision_feature_layer": -2,
                            "vision_feature_select_strategy": strategy})
    return LlavaForConditionalGeneration(config), processor


def _idefics3() -> tuple[Any, Any]:
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessor,
        Idefics3Processor,
    )

    tok = _tokenizer(["<fake_token_around_image>", "<image>", "<end_of_utterance>",
                      "<global-img>", "User:", "Assistant:"])
    images = Idefics3ImageProcessor(do_image_splitting=False, size={"longest_edge": SIDE},
                                    max_image_size={"longest_edge": SIDE})
    processor = Idefics3Processor(
        image_processor=images, tokenizer=tok, image_seq_len=(SIDE // 14) ** 2 // 4,
        chat_template=_template("User:", "<image>", "<end_of_utterance>\n", "Assistant:"))
    config = Idefics3Config(
        vision_config=_vision(), text_config=_lm(len(tok), model_type="llama"),
        scale_factor=2, image_token_id=tok.convert_tokens_to_ids("<image>"))
    return Idefics3ForConditionalGeneration(config), processor


def _qwen2_vl() -> tuple[Any, Any]:
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
    )

    specials = ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>",
                "<|im_start|>", "<|im_end|>"]
    tok = _tokenizer(specials, {"image_token": "<|image_pad|>", "video_token": "<|video_pad|>"})
    images = Qwen2VLImageProcessor(min_pixels=28 * 28, max_pixels=SIDE * SIDE)
    processor = qwen2_vl_processor(
        Qwen2VLProcessor, image_processor=images, tokenizer=tok,
        chat_template=_template("<|im_start|>user\n", "<|vision_start|><|image_pad|>"
                                "<|vision_end|>", "<|im_end|>\n", "<|im_start|>assistant\n"))
    config = Qwen2VLConfig(
        vision_config={"depth": 3, "embed_dim": 32, "hidden_size": LM["hidden_size"],
                       "num_heads": 4, "mlp_ratio": 2, "patch_size": 14,
                       "spatial_merge_size": 2, "temporal_patch_size": 2},
        text_config=_lm(len(tok), rope_parameters={
            "rope_type": "default", "rope_theta": 10000.0,
            "mrope_section": [2, 3, 3]}),  # sums to head_dim / 2 = 8
        image_token_id=tok.convert_tokens_to_ids("<|image_pad|>"),
        video_token_id=tok.convert_tokens_to_ids("<|video_pad|>"),
        vision_start_token_id=tok.convert_tokens_to_ids("<|vision_start|>"))
    return Qwen2VLForConditionalGeneration(config), processor


BUILDERS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "llava": _llava, "llava_siglip": lambda: _llava("siglip"), "idefics3": _idefics3,
    "qwen2_vl": _qwen2_vl}

TINY = tuple(sorted(BUILDERS))  # llava (CLIP), llava_siglip, idefics3, qwen2_vl


def save_tiny(family: str, directory: Path, seed: int = 0) -> Path:
    """A tiny random `family` model with its processor, saved to `directory` (created)."""
    if family not in BUILDERS:
        raise ValueError(f"no tiny {family!r}; families are {sorted(BUILDERS)}")
    torch.manual_seed(seed)
    model, processor = BUILDERS[family]()
    directory.mkdir(parents=True, exist_ok=True)
    model.eval().save_pretrained(directory)
    processor.save_pretrained(directory)
    return directory
