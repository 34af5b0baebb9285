"""Keep a model's reasoning apart from its answer.

Reasoning arrives two ways: a separate field (``reasoning_content`` from DeepSeek/vLLM, ``reasoning`` from
OpenRouter/Ollama) or inline as a ``<think>…</think>`` block at the start of the content (Qwen3, R1 distills
served raw). Both the HTTP adapter, the local target and replay use :func:`split_reasoning`, so the three
agree on what the answer text is and on ``thought_suppressed``:

- a reasoning channel exists and is empty (``<think></think>``, ``reasoning_content: ""``) -> True: the model
  was made to skip its thinking, a signal worth reporting;
- it exists and holds text -> False;
- no channel at all (no block, field absent or null) -> None.

Model output is hostile input: only a block at the very start counts (a ``<think>`` quoted mid-answer stays
in the answer), and nothing here evaluates or renders it.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from glasnost.records import Outcome

# The opening tag at the start (after whitespace); a few models spell it <thinking> or <seed:think>.
_OPEN = re.compile(r"^\s*<(think|thinking|seed:think)>", re.IGNORECASE)
# A closing tag with no opening one: templates that put "<think>" in the prompt (R1 distills) leave the
# model's output starting inside the block.
_BARE_CLOSE = re.compile(r"</(think|thinking|seed:think)>", re.IGNORECASE)


class Split(NamedTuple):
    text: str | None
    reasoning: str | None
    thought_suppressed: bool | None


def content_text(content: Any) -> str | None:
    """Message content as text: a string, or the text parts of a content array; anything else -> None."""
    if content is None or isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "".join(parts)
    return None


def _split_inline(content: str) -> tuple[str, str | None]:
    """(answer, reasoning) from inline tags; reasoning is None when there is no block."""
    opened = _OPEN.match(content)
    if opened:
        tag = opened.group(1)
        body_start = opened.end()
        close = re.compile(rf"</{re.escape(tag)}>", re.IGNORECASE).search(content, body_start)
        if close is None:  # cut off while thinking (length limit): everything is reasoning
            return "", content[body_start:].strip()
        return content[close.end():].lstrip(), content[body_start:close.start()].strip()
    close = _BARE_CLOSE.search(content)
    if close is not None and not _looks_like_markup(content[: close.start()]):
        return content[close.end():].lstrip(), content[: close.start()].strip()
    return content, None


def _looks_like_markup(text: str) -> bool:
    # A bare "</think>" preceded by other tags is more likely quoted markup than a reasoning block.
    return bool(re.search(r"<[a-zA-Z/][^>]{0,40}>", text))


def split_reasoning(content: Any, reasoning_field: Any = None) -> Split:
    """Split one reply into (answer text, reasoning, thought_suppressed).

    ``reasoning_field`` is the separate field's value: a string (even an empty one) means the reply has a
    reasoning channel, which is what marks a reasoning model whose thinking was suppressed; None means none.
    """
    text = content_text(content)
    field = reasoning_field if isinstance(reasoning_field, str) else None
    inline: str | None = None
    if text:
        text, inline = _split_inline(text)
    channel = field is not None or inline is not None
    if not channel:
        return Split(text, None, None)
    parts = [p.strip() for p in (field, inline) if p and p.strip()]
    reasoning = "\n\n".join(parts)
    return Split(text, reasoning or None, not reasoning)


def answer_outcome(finish_reason: object, text: str | None) -> Outcome:
    """The outcome of a well-formed answer (blocks and failures are decided before): every backend agrees."""
    if finish_reason in ("length", "max_tokens"):
        return Outcome.truncated
    if not (text or "").strip():
        return Outcome.empty
    return Outcome.ok
