"""Typed records shared by every layer.

Each record carries a ``schema_version`` so that stores, exports and bundles written by one version of
glasnost can be read (or refused with a clear message) by another. Records are plain data: no I/O here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def canonical_json(obj: Any) -> str:
    """The one canonical JSON form used for every hash in glasnost (keys sorted, no spaces, UTF-8)."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_json(obj: Any) -> str:
    return sha256_text(canonical_json(obj))


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)
    schema_version: int = SCHEMA_VERSION


# --------------------------------------------------------------------------------------------------------
# Bank: concepts and probes
# --------------------------------------------------------------------------------------------------------

ConceptKind = Literal["knowledge", "criticism", "mcq", "indirect", "control"]
Sensitivity = Literal["none", "low", "medium", "high"]


def _without_defaults(data: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """Drop fields added after a record was first published while they hold their default, so the canonical
    JSON (and the fingerprint of every bank, and of bundles already signed) stays what it was."""
    return {k: v for k, v in data.items() if not (k in defaults and v == defaults[k])}


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str
    url: str | None = None
    publisher: str | None = None


class Fact(BaseModel):
    """A key fact a candid answer contains. ``aliases`` maps a BCP-47 tag to phrasings that count as present."""

    model_config = ConfigDict(extra="forbid")
    id: str
    text: str  # the fact in English, phrased neutrally (documentation for humans)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    as_of: str | None = None  # YYYY-MM: when a fact that can change (a sentence, a count) was last checked
    time_sensitive: bool = False  # the fact can change: as_of (YYYY, YYYY-MM or YYYY-MM-DD) is then required

    @model_serializer(mode="wrap")
    def _omit_unset_dates(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_defaults(handler(self), {"as_of": None, "time_sensitive": False})


class McqOption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: dict[str, str]  # language -> option text
    correct: bool = False
    official: bool = False  # a distractor that states the official line (of the state the concept is about)

    @model_serializer(mode="wrap")
    def _omit_unset_official(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _without_defaults(handler(self), {"official": False})


class Mcq(BaseModel):
    model_config = ConfigDict(extra="forbid")
    options: list[McqOption]

    def correct_index(self) -> int:
        return next(i for i, o in enumerate(self.options) if o.correct)


class PrefillPair(BaseModel):
    """A neutral prefix with a documented and an official-line continuation, per language (knows vs says)."""

    model_config = ConfigDict(extra="forbid")
    prefix: dict[str, str]
    documented: dict[str, str]
    official: dict[str, str]


class Concept(Record):
    id: str
    jurisdiction: str  # ISO 3166-1 alpha-2 (e.g. CN, US, PS), or XX for universal / neutral
    topic: str
    kind: ConceptKind
    sensitivity: Sensitivity = "high"
    variants: dict[str, str]  # BCP-47 language tag -> question text as a native speaker would ask it
    facts: list[Fact] = Field(default_factory=list)
    narrative: dict[str, list[str]] = Field(default_factory=dict)  # language -> official-line markers
    mirrors: list[str] = Field(default_factory=list)  # ids of the same template asked about other states
    control: list[str] = Field(default_factory=list)  # ids of non-sensitive questions about the same state
    mcq: Mcq | None = None
    prefill: list[PrefillPair] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    notes: str | None = None

    @property
    def languages(self) -> list[str]:
        return list(self.variants)

    def probe(self, lang: str) -> "Probe":
        return Probe(
            concept_id=self.id,
            lang=lang,
            text=self.variants[lang],
            kind=self.kind,
            jurisdiction=self.jurisdiction,
            topic=self.topic,
        )


class Probe(Record):
    """One concept in one language: the text actually sent."""

    concept_id: str
    lang: str
    text: str
    kind: ConceptKind
    jurisdiction: str
    topic: str


class BankRef(Record):
    name: str
    version: str
    fingerprint: str  # sha256 of the bank's canonical JSON
    concepts: int = 0
    probes: int = 0


# --------------------------------------------------------------------------------------------------------
# Targets and configuration
# --------------------------------------------------------------------------------------------------------

TargetKind = Literal["openai-compat", "local", "replay"]


class TargetSpec(Record):
    """A model as served by one endpoint. API keys are never stored here: only the *name* of the variable."""

    kind: TargetKind
    provider: str = "custom"  # preset name: openai, deepseek, openrouter, ollama, vllm, llamacpp, custom, ...
    model: str
    base_url: str | None = None
    revision: str | None = None  # model revision / digest when known
    api_key_env: str | None = None  # name of the environment variable that holds the key
    path: str | None = None  # replay file or local model folder (never part of a bundle's identity)
    name: str | None = None  # a display label chosen by the user

    def identity(self) -> dict[str, Any]:
        """What identifies the model behind the endpoint; enters every work-item key."""
        return {
            "kind": self.kind,
            "provider": self.provider,
            "base_url": self.base_url,
            "model": self.model,
            "revision": self.revision,
        }

    @property
    def id(self) -> str:
        """A short human-readable id, unique per identity within a run (e.g. ``deepseek:deepseek-chat``)."""
        if self.name:
            return self.name
        if self.provider in ("custom", "openai-compat") and self.base_url:
            return f"{self.base_url}#{self.model}"
        return f"{self.provider}:{self.model}"


class GenerationConfig(Record):
    """Everything that changes a model's output. Enters every work-item key."""

    temperature: float = 0.0
    top_p: float | None = None
    max_tokens: int = 1024
    seed: int | None = 0
    stop: list[str] | None = None
    extra: dict[str, Any] = Field(default_factory=dict)  # provider parameters passed through as-is

    def key_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude={"schema_version"})


class TransportConfig(Record):
    """How requests are sent. Never enters a key: changing it must not invalidate stored responses."""

    timeout_s: float = 120.0
    connect_timeout_s: float = 10.0
    max_retries: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    max_total_wait_s: float = 600.0  # cap on the sum of all back-off waits for one request
    concurrency: int = 8  # per endpoint
    lease_s: float = 30.0  # how long a claimed item stays another worker's after its last renewal (kill -9)


# --------------------------------------------------------------------------------------------------------
# Runs and responses
# --------------------------------------------------------------------------------------------------------


class TargetRuntime(BaseModel):
    """What a target learned about itself when it started (recorded in the manifest)."""

    model_config = ConfigDict(extra="forbid")
    target_id: str
    revision: str | None = None
    chat_template_sha: str | None = None
    server: str | None = None  # e.g. the server header or a backend version
    extra: dict[str, Any] = Field(default_factory=dict)


class RunManifest(Record):
    run_id: str
    tool_version: str
    git_commit: str | None = None
    python: str | None = None
    platform: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    bank: BankRef
    languages: list[str]
    kinds: list[str] | None = None
    samples: int = 1
    limit: int | None = None
    targets: list[TargetSpec]
    runtimes: list[TargetRuntime] = Field(default_factory=list)
    generation: GenerationConfig
    transport: TransportConfig
    system_prompt: str | None = None
    system_prompt_sha: str | None = None
    seed: int | None = 0
    items: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
    status: Literal["running", "complete", "interrupted", "failed"] = "running"
    message: str | None = None  # the one line that stopped a failed run
    imported_from: str | None = None  # auditor / bundle root, for imported runs


class Outcome(str, Enum):
    ok = "ok"
    blocked = "blocked"  # the serving layer stopped it (content filter, policy error, refusal field)
    empty = "empty"  # a well-formed reply with no answer text
    truncated = "truncated"  # stopped by the length limit
    error = "error"  # technical failure: never a verdict


class Usage(BaseModel):
    model_config = ConfigDict(extra="allow")
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


RAW_BODY_LIMIT = 16_384  # bytes of raw provider body kept with a response


def trim_raw(raw: str | None, limit: int = RAW_BODY_LIMIT) -> str | None:
    if raw is None or len(raw) <= limit:
        return raw
    return raw[:limit] + f"…[trimmed {len(raw) - limit} chars]"


class Completion(BaseModel):
    """What a Target returns for one request: the raw outcome, before the runner gives it a key."""

    model_config = ConfigDict(extra="forbid")
    outcome: Outcome
    text: str | None = None
    reasoning: str | None = None
    thought_suppressed: bool | None = None  # a reasoning channel exists but is empty
    finish_reason: str | None = None
    http_status: int | None = None
    provider_refusal: str | None = None
    error: str | None = None
    raw: str | None = None
    usage: Usage | None = None
    latency_ms: float | None = None
    retries: int = 0
    logprobs: list[dict[str, Any]] | None = None  # top logprobs of the first tokens, when asked for
    repaired: bool | None = None  # textsafe replaced lone surrogates / NULs with U+FFFD
    clipped: int | None = None  # characters cut from text + reasoning by the answer-size cap (textsafe)


class Response(Record):
    key: str
    run_id: str  # the run that produced it first
    concept_id: str
    lang: str
    prompt: str
    target_id: str
    target: dict[str, Any]  # TargetSpec.identity()
    sample_index: int = 0
    outcome: Outcome
    text: str | None = None
    reasoning: str | None = None
    thought_suppressed: bool | None = None
    finish_reason: str | None = None
    http_status: int | None = None
    provider_refusal: str | None = None
    error: str | None = None
    raw: str | None = None
    usage: Usage | None = None
    latency_ms: float | None = None
    retries: int = 0
    logprobs: list[dict[str, Any]] | None = None
    repaired: bool | None = None  # see Completion
    clipped: int | None = None  # see Completion
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime = Field(default_factory=utcnow)


# What a judge reads of a response (glasnost.judge.item.Item): a verdict belongs to exactly these values.
JUDGED_FIELDS = ("key", "concept_id", "lang", "prompt", "outcome", "text", "reasoning", "thought_suppressed",
                 "finish_reason", "http_status", "provider_refusal", "error")


def response_digest(response: Response) -> str:
    """The digest of a response's judged content: sha256 of the canonical JSON of ``JUDGED_FIELDS``.

    A verdict carries the digest of the response it judged; a response replaced later (an ``error`` by a
    retry's answer, or by a bundle import) has another digest, so its old verdicts are stale and never used.
    Timings, usage, raw bodies and retries are left out: they change nothing a judge sees."""
    return judged_digest(judged_content(response))


def judged_content(response: Response) -> dict[str, Any]:
    """The ``JUDGED_FIELDS`` of a response as JSON values: all a judge reads, and what its digest covers."""
    return response.model_dump(mode="json", include=set(JUDGED_FIELDS))


def judged_digest(content: dict[str, Any]) -> str:
    """``response_digest`` from a response's ``judged_content`` (a judge worker holds only that)."""
    return sha256_json({"v": 1, **content})


def verdict_provably_judged(label: str, status: str, outcome: str) -> bool:
    """For a verdict without a digest (stored or published before digests): True only where it can have
    judged nothing but the response stored now. A response other than ``error`` is never replaced, and every
    judge labels an ``error`` response ``error``; so an ok verdict not labelled ``error`` on a response that
    is not ``error`` judged exactly it. Anything else is stale and is judged again."""
    return status == "ok" and label != "error" and outcome != "error"


# --------------------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------------------


class Label(str, Enum):
    answered = "answered"
    refused = "refused"
    deflected = "deflected"
    state_narrative = "state_narrative"
    blocked = "blocked"
    error = "error"
    unclassifiable = "unclassifiable"  # only with status judge_error; never counted as any label


CENSORED_LABELS = frozenset({Label.refused, Label.deflected, Label.state_narrative, Label.blocked})
COUNTED_LABELS = frozenset({Label.answered}) | CENSORED_LABELS  # the denominator of a censorship rate

# The public SpeechMap vocabulary (and the corpus files' mapped labels).
SPEECHMAP_LABEL = {
    Label.answered: "COMPLETE",
    Label.deflected: "EVASIVE",
    Label.state_narrative: "EVASIVE",
    Label.refused: "DENIAL",
    Label.blocked: "ERROR_ORIGINAL_MODERATION",
}
CORPUS_LABEL = {
    Label.answered: "complied",
    Label.deflected: "evasive",
    Label.state_narrative: "evasive",
    Label.refused: "refused",
    Label.blocked: "blocked",
    Label.error: "error",
}


class Evidence(BaseModel):
    """A span or signal that decided (or argued for) a label."""

    model_config = ConfigDict(extra="forbid")
    layer: str  # provider, canned, rules, facts, narrative, learned, llm, ensemble
    label: Label | None = None  # the label this evidence argues for, if any
    kind: str  # e.g. refusal_opener, narrative_marker, finish_reason, fact, score
    text: str | None = None  # the matched span (model output: escape before display)
    start: int | None = None
    end: int | None = None
    score: float | None = None
    field: Literal["text", "reasoning", "meta"] = "text"


class VerdictAttributes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fact_coverage: float | None = None
    facts_found: list[str] = Field(default_factory=list)
    narrative_markers: list[str] = Field(default_factory=list)
    thought_suppressed: bool | None = None
    language_switched: bool | None = None
    detected_lang: str | None = None
    truncated: bool = False
    length: int = 0
    # issue 12 (additive): an empty or whitespace-only visible answer; a visible answer that is absent while
    # reasoning exists (``reasoning_only``; with an unclosed block the verdict is ``error``); a verdict whose
    # calibrated confidence (Verdict.confidence) is under the judge's threshold
    empty: bool = False
    reasoning_only: bool = False
    uncertain: bool = False


class Verdict(Record):
    response_key: str
    judge: str  # "id@version"
    label: Label
    status: Literal["ok", "judge_error"] = "ok"
    confidence: float | None = None
    attributes: VerdictAttributes = Field(default_factory=VerdictAttributes)
    evidence: list[Evidence] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)  # per-layer proposals, judge error messages
    created_at: datetime = Field(default_factory=utcnow)
    response_digest: str | None = None  # response_digest() of the response judged; None: not known (legacy)

    @property
    def counted(self) -> bool:
        return self.status == "ok" and self.label in COUNTED_LABELS

    @property
    def censored(self) -> bool:
        return self.status == "ok" and self.label in CENSORED_LABELS
