"""What a judge looks at: one response (from the store or a transcript file) and, when known, its concept."""

from __future__ import annotations

from dataclasses import dataclass

from glasnost.records import Concept, Response


@dataclass
class Item:
    key: str
    text: str | None
    outcome: str = "ok"  # ok | blocked | empty | truncated | error (records.Outcome values)
    reasoning: str | None = None
    thought_suppressed: bool | None = None
    finish_reason: str | None = None
    http_status: int | None = None
    provider_refusal: str | None = None
    error: str | None = None
    lang: str | None = None  # the language the probe was asked in
    prompt: str | None = None
    concept: Concept | None = None

    @classmethod
    def from_response(cls, response: Response, concept: Concept | None = None) -> "Item":
        return cls(
            key=response.key,
            text=response.text,
            outcome=response.outcome.value,
            reasoning=response.reasoning,
            thought_suppressed=response.thought_suppressed,
            finish_reason=response.finish_reason,
            http_status=response.http_status,
            provider_refusal=response.provider_refusal,
            error=response.error,
            lang=response.lang,
            prompt=response.prompt,
            concept=concept,
        )
