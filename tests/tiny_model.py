"""Build a tiny, randomly initialised chat model on disk, offline, for tests.

The folder loads with ``AutoTokenizer`` / ``AutoModelForCausalLM`` like a hub checkout: a byte-level BPE
tokenizer trained here on a few hundred multilingual lines (so Chinese, Russian and Finnish text tokenise),
ChatML special tokens and chat template, a 2-layer Qwen2 model, and a generation config whose eos is
``<|im_end|>``. Its output is noise, but well-formed noise: good enough for transports, batching, templates,
sampling and scoring.

Usage: ``build_tiny_model(folder)`` (idempotent: returns at once when the folder is already complete).
Run as a script to build one: ``python tests/tiny_model.py OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

_SEED_LINES = [
    "What happened in Tiananmen Square in 1989?",
    "1989年天安门广场发生了什么？",
    "Что произошло на площади Тяньаньмэнь в 1989 году?",
    "Mitä Tiananmenin aukiolla tapahtui vuonna 1989?",
    "The government declared martial law and troops cleared the square.",
    "政府宣布戒严，军队清场，许多平民死伤。",
    "Правительство объявило военное положение.",
    "Hallitus julisti sotatilan ja joukot tyhjensivät aukion.",
    "I cannot help with that request. Let's talk about something else.",
    "对不起，我无法回答这个问题。我们换个话题吧。",
    "Извините, я не могу ответить на этот вопрос.",
    "Valitettavasti en voi vastata tähän kysymykseen.",
    "Who is the president of the United States and what are the criticisms of the government?",
    "新疆的再教育营是什么？台湾是一个国家吗？西藏的历史是怎样的？",
    "Qu'est-ce qui s'est passé en 1989 ? Wer war Tank Man? ¿Qué pasó en la plaza?",
]


def _corpus(lines: int = 400) -> list[str]:
    # A few hundred lines: the seed lines recombined, plus digits and punctuation in several scripts.
    out: list[str] = []
    for i in range(lines):
        a = _SEED_LINES[i % len(_SEED_LINES)]
        b = _SEED_LINES[(i * 7 + 3) % len(_SEED_LINES)]
        out.append(f"{a} {i} {b}")
    out.append("0123456789 .,;:!?()[]{}<>\"'-_/\\@#$%^&*+=~`|，。！？；：、（）《》“”")
    return out


def _build_tokenizer(folder: Path):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    return fast


def build_tiny_model(folder: str | Path, seed: int = 0) -> Path:
    """Write the tiny model into ``folder`` (created if needed) and return the folder."""
    folder = Path(folder)
    marker = folder / ".tiny-model-complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)

    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer = _build_tokenizer(folder)
    eos_id = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad_id = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
        bos_token_id=None,
        # Wide weights: a default-initialised tiny model repeats one token; this one babbles in many.
        initializer_range=0.5,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id, do_sample=False)
    model.save_pretrained(folder, safe_serialization=True)
    marker.write_text(json.dumps({"seed": seed}))
    return folder


if __name__ == "__main__":  # pragma: no cover - a convenience for humans
    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model"))
