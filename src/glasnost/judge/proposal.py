"""What each layer returns: a proposed label (or an abstention) with the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from glasnost.records import Evidence, Label


@dataclass
class Proposal:
    layer: str  # provider, canned, rules, facts, learned, llm
    label: Label | None = None  # None: the layer abstains
    evidence: list[Evidence] = field(default_factory=list)
    score: float | None = None
    info: dict[str, Any] = field(default_factory=dict)  # signals the ensemble reads and detail records

    def summary(self) -> dict[str, Any]:
        """The proposal as it is kept in a verdict's ``detail`` (every layer's say, deciding or not)."""
        out: dict[str, Any] = {"label": self.label.value if self.label else None}
        if self.score is not None:
            out["score"] = round(float(self.score), 4)
        if self.info:
            out.update({k: v for k, v in self.info.items() if not k.startswith("_")})
        return out
