"""What ``glasnost run --kinds`` selects: bank kinds asked in chat, and the white-box probes of local targets.

``--kinds`` takes the bank's kinds (knowledge, criticism, mcq, indirect, control) and one more, ``prefill``:

- ``mcq`` asks every target the multiple-choice checks in chat (lettered, shuffled options) and, for local
  targets, also scores each option's likelihood as an answer to the question, without generating;
- ``prefill`` scores, for local targets only, the documented against the official-line continuation of each
  knowledge concept's neutral prefix. It sends no chat request.

No ``--kinds`` means every bank kind in chat plus both white-box probes for local targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from glasnost.bank.load import KINDS
from glasnost.errors import ConfigError

PREFILL = "prefill"
KNOWN_KINDS = (*KINDS, PREFILL)


@dataclass(frozen=True)
class KindSelection:
    chat: list[str] | None  # bank kinds asked in chat; None = all of them, [] = none
    prefill: bool  # documented-vs-official continuation likelihoods (local targets)
    options: bool  # option likelihoods of mcq concepts (local targets)

    @property
    def white_box(self) -> bool:
        return self.prefill or self.options


def select_kinds(kinds: list[str] | None) -> KindSelection:
    if not kinds:
        return KindSelection(chat=None, prefill=True, options=True)
    unknown = [k for k in kinds if k not in KNOWN_KINDS]
    if unknown:
        raise ConfigError(f"unknown kind {', '.join(unknown)} in --kinds; known: {', '.join(KNOWN_KINDS)}")
    chat = [k for k in dict.fromkeys(kinds) if k != PREFILL]
    return KindSelection(chat=chat, prefill=PREFILL in kinds, options="mcq" in kinds)
