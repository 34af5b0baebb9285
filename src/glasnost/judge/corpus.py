"""Read transcripts in the corpus schema (JSONL, optionally gzip) one line at a time.

Used by ``glasnost classify``, ``glasnost judge-eval`` and the training script. Reading is streaming: memory
stays flat however large the file. A malformed line is reported with its number and skipped, or stops the
read in strict mode.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from glasnost import textsafe
from glasnost.errors import ConfigError
from glasnost.judge.item import Item
from glasnost.judge.provider import is_moderation_message

CORPUS_FIELDS = ("id", "prompt", "response", "reasoning", "finish_reason", "refusal_field", "error", "lang")


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


def open_text(path: Path) -> io.TextIOBase:
    return textsafe.open_text(path)  # type: ignore[return-value]


def iter_rows(
    path: Path, strict: bool = False, on_bad: Callable[[BadLine], None] | None = None
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for every well-formed line; a bad one goes to ``on_bad`` (strict: ConfigError).

    Lines pass the text boundary: capped in length while read (textsafe.iter_lines), JSON too deep or with an
    endless number is a bad line, and lone surrogates / NULs in the row's strings are repaired (U+FFFD) and
    the row marked ``repaired``."""
    for lineno, line in textsafe.iter_lines(path):
        if not line.strip():
            continue
        row: Any = None
        try:
            row = textsafe.loads(line, f"{path}:{lineno}")
            problem = _check_row(row)
        except ConfigError as exc:
            problem = str(exc).split(": ", 1)[-1]
        if problem is not None:
            if strict:
                raise ConfigError(f"{path}:{lineno}: {problem}")
            if on_bad is not None:
                on_bad(BadLine(lineno, problem))
            continue
        row, repaired = textsafe.clean(row)
        if repaired:
            row["repaired"] = True
        yield lineno, row


def _check_row(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "a line must be a JSON object"
    if not isinstance(row.get("id"), (str, int)) or isinstance(row.get("id"), bool):
        return "missing 'id'"
    if isinstance(row["id"], int) and abs(row["id"]) >= 10**18:
        return "'id' is a number too long to be an id; write it as a string"
    for field in ("prompt", "response", "reasoning", "finish_reason", "refusal_field", "error", "lang"):
        value = row.get(field)
        if field == "refusal_field" and isinstance(value, bool):  # some corpora write false for "none"
            continue
        if value is not None and not isinstance(value, str):
            return f"field '{field}' must be a string or null"
    return None


def item_from_row(row: dict[str, Any]) -> Item:
    """A corpus row as a judge input. The outcome is derived the way the runner derives it for live calls."""
    text = row.get("response")
    error = row.get("error")
    finish = row.get("finish_reason")
    refusal = row.get("refusal_field")
    if isinstance(refusal, bool):
        # A provider's refusal field is a message. A boolean is some tool's own flag (deccp's tester writes its
        # refusal detector's guess there, true on answers read as complied too): not a provider signal.
        refusal = None
    if refusal:
        outcome = "blocked"
    elif finish == "content_filter":
        outcome = "blocked"
    elif error:
        # An error object, with or without partial text: a moderation message is a block (as the targets
        # layer decides for live calls), anything else a technical failure.
        outcome = "blocked" if is_moderation_message(error) else "error"
    elif text is None:
        outcome = "error"
    elif not text.strip():
        outcome = "empty"
    elif finish == "length":
        outcome = "truncated"
    else:
        outcome = "ok"
    return Item(
        key=str(row["id"]),
        text=text,
        reasoning=row.get("reasoning"),
        outcome=outcome,
        finish_reason=finish,
        provider_refusal=refusal,
        error=error,
        lang=row.get("lang"),
        prompt=row.get("prompt"),
    )


def row_source(row: dict[str, Any], path: Path) -> str:
    """The source a row is reported under: its ``source`` when that is a short name (speechmap, xstest), else
    the file's name (deccp-read, qwen-bench-read, a hand-written set), so upstream paths do not become names."""
    source = str(row.get("source") or "")
    if source and len(source) <= 40 and "/" not in source and "@" not in source:
        return source
    name = path.name
    for ext in (".gz", ".jsonl", ".json"):
        name = name[: -len(ext)] if name.endswith(ext) else name
    return name


def row_group(row: dict[str, Any], source: str) -> str:
    """The cross-validation group: the model, spelled the same across sources ("Qwen/Qwen2.5-7B-Instruct" and
    "qwen/qwen-2.5-7b-instruct" are one model), so that no model is on both sides of a fold whatever file its
    rows come from; rows without a model are grouped by source."""
    model = str(row.get("model") or "")
    if not model:
        return f"source:{source}"
    return "model:" + "".join(ch for ch in model.rsplit("/", 1)[-1].lower() if ch.isalnum())
