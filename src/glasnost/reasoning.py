"""Keep a model's reasoning apart from its answer: the one splitter for every convention (issue 12).

Used by every target (HTTP, local, replay: ``split_reasoning``) and by the judge (``split``), so the runner
and ``glasnost classify`` agree on what the answer is. Reasoning arrives as:

- a separate field: ``reasoning_content`` (DeepSeek, vLLM) or ``reasoning`` (OpenRouter, Ollama);
- an inline block at the start of the content:
  ``<think>…</think>`` (Qwen3, R1 distills; also ``<thinking>``, ``<reasoning>``, ``<seed:think>``),
  ``◁think▷…◁/think▷`` (Kimi), ``<|begin_of_thought|>…<|end_of_thought|>`` with the answer optionally wrapped
  in ``<|begin_of_solution|>…<|end_of_solution|>`` (OpenThoughts / Sky-T1 style);
- harmony channels (gpt-oss): ``<|channel|>analysis<|message|>…<|end|>`` … ``<|channel|>final<|message|>…``;
- a bare closing tag with no opener (templates that put the opening tag in the prompt): everything before it.

``thought_suppressed``: a channel exists and is empty → True (a signal worth reporting, never a censorship
label by itself); it holds text → False; no channel → None. ``unfinished``: reasoning was opened and never
closed, so there is no answer at all (cut off while thinking).

Model output is hostile input: only a block at the very start counts (a tag quoted mid-answer stays in the
answer), a bare closing tag preceded by other markup is taken for quoted markup, every regex is linear, and
nothing here evaluates or renders the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from glasnost.records import Outcome

# (name, opening tag at the very start, closing tag) of the inline block conventions
_TAG_OPEN = re.compile(r"\s*<(think|thinking|reasoning|seed:think)>", re.I)
_KIMI_OPEN, _KIMI_CLOSE = "◁think▷", "◁/think▷"
_THOUGHT_OPEN, _THOUGHT_CLOSE = "<|begin_of_thought|>", "<|end_of_thought|>"
_SOLUTION = re.compile(r"\s*<\|begin_of_solution\|>(.*?)(?:<\|end_of_solution\|>|$)", re.S)
_BARE_CLOSE = re.compile(r"</(?:think|thinking|reasoning|seed:think)>|◁/think▷|<\|end_of_thought\|>", re.I)
# harmony (gpt-oss): messages are "<|start|>assistant<|channel|>NAME<|message|>BODY<|end|>"
_HARMONY = re.compile(r"<\|channel\|>\s*(\w+)[^<]{0,80}<\|message\|>")
_HARMONY_END = re.compile(r"<\|(?:end|return|call)\|>")
_MARKUP = re.compile(r"<[a-zA-Z/][^>]{0,40}>")


@dataclass(frozen=True)
class Parts:
    """One reply split: ``answer`` starts at ``offset`` in the original content (evidence spans point there)."""

    answer: str
    reasoning: str | None  # the reasoning text (None: none, or an empty channel)
    offset: int
    channel: bool  # a reasoning channel exists (inline block or separate field)
    unfinished: bool = False  # reasoning opened and never closed: no answer was given
    convention: str | None = None  # think, kimi, thought, harmony, bare_close, field


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


def _answer(text: str, start: int, end: int | None = None) -> tuple[str, int]:
    """The answer text[start:end] without leading white space, and where it starts."""
    rest = text[start:end]
    stripped = rest.lstrip()
    sol = _SOLUTION.match(stripped)
    if sol is not None:  # <|begin_of_solution|>ANSWER<|end_of_solution|>
        inner = sol.group(1)
        lead = len(rest) - len(stripped) + sol.start(1)
        inner_stripped = inner.lstrip()
        return inner_stripped.rstrip(), start + lead + len(inner) - len(inner_stripped)
    return stripped, start + len(rest) - len(stripped)


def _inline(text: str) -> Parts | None:
    """The inline conventions; None when the text carries none."""
    if "<" not in text and "\u25c1" not in text:  # every convention has one of these (speed: most answers)
        return None
    head = text.lstrip()
    lead = len(text) - len(head)
    m = _TAG_OPEN.match(text)
    if m is not None:
        close = re.compile(rf"</{re.escape(m.group(1))}>", re.I).search(text, m.end())
        return _block(text, m.end(), close.start() if close else None, close.end() if close else None, "think")
    for name, opener, closer in (("kimi", _KIMI_OPEN, _KIMI_CLOSE), ("thought", _THOUGHT_OPEN, _THOUGHT_CLOSE)):
        if head.startswith(opener):
            body = lead + len(opener)
            end = text.find(closer, body)
            return _block(text, body, end if end >= 0 else None, end + len(closer) if end >= 0 else None, name)
    if "<|channel|>" in text[:200] and _HARMONY.search(text) is not None:
        return _harmony(text)
    close = _BARE_CLOSE.search(text)
    if close is not None and not _MARKUP.search(text[: close.start()].replace("<|begin_of_thought|>", "")):
        answer, offset = _answer(text, close.end())
        return Parts(answer, text[: close.start()].strip() or None, offset, True, False, "bare_close")
    return None


def _block(text: str, body: int, close_start: int | None, close_end: int | None, name: str) -> Parts:
    if close_start is None or close_end is None:  # cut off while thinking: everything is reasoning
        return Parts("", text[body:].strip() or None, len(text), True, True, name)
    answer, offset = _answer(text, close_end)
    return Parts(answer, text[body:close_start].strip() or None, offset, True, False, name)


def _harmony(text: str) -> Parts:
    """gpt-oss harmony: the ``final`` channel is the answer; ``analysis`` and ``commentary`` are reasoning."""
    reasoning: list[str] = []
    final: tuple[str, int] | None = None
    pos = 0
    while True:
        m = _HARMONY.search(text, pos)
        if m is None:
            break
        end_m = _HARMONY_END.search(text, m.end())
        nxt = _HARMONY.search(text, m.end())
        stop = min(x for x in (end_m.start() if end_m else len(text), nxt.start() if nxt else len(text)))
        if m.group(1).lower() == "final":
            final = _answer(text, m.end(), stop)
        else:
            reasoning.append(text[m.end():stop].strip())
        pos = stop
    joined = "\n\n".join(r for r in reasoning if r) or None
    if final is None:
        return Parts("", joined, len(text), True, True, "harmony")
    return Parts(final[0].rstrip(), joined, final[1], True, False, "harmony")


def split(content: Any, reasoning_field: Any = None) -> Parts:
    """Split one reply into its answer and its reasoning, from inline conventions and a separate field.

    ``reasoning_field`` is the separate field's value: a string (even an empty one) means the reply has a
    reasoning channel; None means none."""
    text = content_text(content) or ""
    field = reasoning_field if isinstance(reasoning_field, str) else None
    parts = _inline(text) if text else None
    if parts is None:
        stripped = text.lstrip()
        parts = Parts(stripped, None, len(text) - len(stripped), False)
    if field is None:
        return parts
    texts = [p.strip() for p in (field, parts.reasoning) if p and p.strip()]
    return Parts(parts.answer, "\n\n".join(texts) or None, parts.offset, True, parts.unfinished,
                 parts.convention or "field")


def split_reasoning(content: Any, reasoning_field: Any = None) -> Split:
    """(answer text, reasoning, thought_suppressed), as the targets store it on a Response."""
    text = content_text(content)
    if text is None and not isinstance(reasoning_field, str):
        return Split(None, None, None)
    parts = split(text, reasoning_field)
    if not parts.channel:
        return Split(text, None, None)
    return Split(parts.answer if text is not None else None, parts.reasoning, parts.reasoning is None)


def answer_outcome(finish_reason: object, text: str | None) -> Outcome:
    """The outcome of a well-formed answer (blocks and failures are decided before): every backend agrees."""
    if finish_reason in ("length", "max_tokens"):
        return Outcome.truncated
    if not (text or "").strip():
        return Outcome.empty
    return Outcome.ok
