"""Answers from recorded responses, looked up by exact probe text.

Two file shapes, told apart by the first line (plain or gzip JSONL):

- a glasnost export: one ``Response`` per line (``Response.model_dump_json()``); ``#MODEL`` selects rows whose
  ``target_id`` or ``target.model`` is MODEL;
- a corpus file (shared/data/corpora schema: ``prompt``, ``response``, ``reasoning``, ``finish_reason``,
  ``refusal_field``, ``error``, ``model``); ``#MODEL`` selects rows of that ``model``.

Without ``#MODEL`` the file must hold one model. The file is streamed once at ``start`` into
``prompt -> [Completion, ...]``; ``sample_index`` picks the i-th recording of a prompt, wrapping around. A
prompt never recorded gives an ``error`` outcome saying so: a miss is a gap in the data, never a verdict.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Iterator

from glasnost import textsafe
from glasnost.errors import ConfigError
from glasnost.records import Completion, Outcome, Response, TargetRuntime, TargetSpec, TransportConfig, Usage, trim_raw
from glasnost.targets.base import ChatRequest
from glasnost.targets.retry import is_policy_text
from glasnost.reasoning import answer_outcome, split_reasoning

ANY_MODEL = "*"
_STATUS_PREFIX = re.compile(r"^\s*(\d{3})\s*:")


def _rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    where = f"replay file {path}"
    for lineno, line in textsafe.iter_lines(path, where):
        if not line.strip():
            continue
        row = textsafe.loads(line, f"{where} line {lineno}")
        if not isinstance(row, dict):
            raise ConfigError(f"{where} line {lineno}: expected a JSON object")
        yield lineno, row


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def corpus_completion(row: dict[str, Any]) -> Completion:
    """One corpus row -> the Completion the live adapter would have produced for it."""
    response = row.get("response")
    error = row.get("error")
    finish = row.get("finish_reason")
    refusal = row.get("refusal_field") or None
    split = split_reasoning(response, row.get("reasoning"))
    status_match = _STATUS_PREFIX.match(error) if isinstance(error, str) else None
    status = int(status_match.group(1)) if status_match else None
    if finish == "content_filter" or refusal or (error and is_policy_text(error)):
        outcome = Outcome.blocked
    elif error:
        outcome = Outcome.error  # a technical failure (with or without partial text): never a verdict
    else:
        outcome = answer_outcome(finish, split.text)
    return Completion(
        outcome=outcome,
        text=split.text,
        reasoning=split.reasoning,
        thought_suppressed=split.thought_suppressed,
        finish_reason=finish,
        http_status=status,
        provider_refusal=refusal,
        error=" ".join(str(error).split())[:500] if error else None,
        raw=trim_raw(json.dumps({k: row.get(k) for k in ("id", "model", "provider", "finish_reason", "error")}, ensure_ascii=False)),
    )


def export_completion(row: dict[str, Any]) -> Completion:
    r = Response.model_validate(row)
    return Completion(
        outcome=r.outcome, text=r.text, reasoning=r.reasoning, thought_suppressed=r.thought_suppressed,
        finish_reason=r.finish_reason, http_status=r.http_status, provider_refusal=r.provider_refusal,
        error=r.error, raw=r.raw, usage=r.usage.model_copy() if isinstance(r.usage, Usage) else None,
        latency_ms=r.latency_ms, retries=r.retries, logprobs=r.logprobs,
    )


def _row_model(row: dict[str, Any]) -> str:
    return str(row.get("target_id") if "target_id" in row else row.get("model"))


def sole_model(path: Path) -> str:
    """The one model a replay file holds (for ``replay:FILE`` without ``#MODEL``), or ConfigError."""
    models: Counter[str] = Counter(_row_model(row) for _, row in _rows(path))
    if len(models) == 1:
        return next(iter(models))
    if not models:
        raise ConfigError(f"replay file {path} is empty")
    listed = ", ".join(m for m, _ in models.most_common(5))
    more = f" and {len(models) - 5} more" if len(models) > 5 else ""
    raise ConfigError(f"replay file {path} holds {len(models)} models ({listed}{more}); choose one with replay:FILE#MODEL")


class ReplayTarget:
    """A target that answers from a file of recorded responses."""

    def __init__(self, spec: TargetSpec, transport: TransportConfig | None = None) -> None:
        if spec.kind != "replay" or not spec.path:
            raise ConfigError(f"target {spec.id}: a replay target needs a file (replay:FILE#MODEL)")
        self.spec = spec
        self.path = Path(spec.path)
        self._answers: dict[str, list[Completion]] = {}
        self.format: str | None = None

    def __repr__(self) -> str:
        return f"ReplayTarget({self.spec.id!r}, path={str(self.path)!r})"

    async def start(self) -> TargetRuntime:
        rows, prompts = await asyncio.to_thread(self._load)
        return TargetRuntime(
            target_id=self.spec.id,
            revision=self.spec.revision or f"sha256:{await asyncio.to_thread(_file_sha256, self.path)}",
            server="replay",
            extra={"format": self.format, "rows": rows, "prompts": prompts, "file": self.path.name},
        )

    def _load(self) -> tuple[int, int]:
        if not self.path.is_file():
            raise ConfigError(f"replay file {self.path} does not exist")
        wanted = self.spec.model
        answers: dict[str, list[Completion]] = defaultdict(list)
        models: Counter[str] = Counter()
        rows = 0
        for lineno, row in _rows(self.path):
            if self.format is None:
                self.format = self._detect(row, lineno)
            model = _row_model(row)
            names = {model}
            if self.format == "export" and isinstance(row.get("target"), dict):
                names.add(str(row["target"].get("model")))
            models[model] += 1
            if wanted != ANY_MODEL and wanted not in names:
                continue
            prompt = row.get("prompt")
            if not isinstance(prompt, str):
                raise ConfigError(f"replay file {self.path} line {lineno}: no prompt text")
            try:
                completion = export_completion(row) if self.format == "export" else corpus_completion(row)
                completion = textsafe.safe_record(completion)  # the text boundary: repaired, capped
            except ValueError as exc:
                raise ConfigError(f"replay file {self.path} line {lineno}: not a valid record ({str(exc).splitlines()[0]})") from None
            answers[prompt].append(completion)
            rows += 1
        if self.format is None:
            raise ConfigError(f"replay file {self.path} is empty")
        if wanted == ANY_MODEL and len(models) > 1:
            listed = ", ".join(m for m, _ in models.most_common(5))
            more = f" and {len(models) - 5} more" if len(models) > 5 else ""
            raise ConfigError(
                f"replay file {self.path} holds {len(models)} models ({listed}{more}); choose one with replay:FILE#MODEL"
            )
        if not rows:
            listed = ", ".join(m for m, _ in models.most_common(5))
            raise ConfigError(f"replay file {self.path} has no rows for model {wanted!r}; models there: {listed}")
        self._answers = dict(answers)
        return rows, len(answers)

    def _detect(self, row: dict[str, Any], lineno: int) -> str:
        if "key" in row and "outcome" in row and "target_id" in row:
            return "export"
        if "prompt" in row and "response" in row:
            return "corpus"
        raise ConfigError(
            f"replay file {self.path} line {lineno}: neither a glasnost export (Response per line) "
            "nor a corpus file (prompt/response per line)"
        )

    async def generate(self, request: ChatRequest) -> Completion:
        recorded = self._answers.get(request.prompt)
        if not recorded:
            return Completion(
                outcome=Outcome.error,
                error=f"not recorded: no response for this prompt in {self.path.name} (model {self.spec.model})",
            )
        return recorded[request.sample_index % len(recorded)].model_copy(deep=True)

    async def aclose(self) -> None:
        self._answers = {}
