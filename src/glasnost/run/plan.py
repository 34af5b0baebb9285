"""Plan a run: the work items, their keys, and the run id.

A work item's key is the sha256 of everything that changes the output — concept id, language, probe text,
target identity, generation config, system prompt, sample index — and nothing that does not (timeouts,
retries, concurrency). The run id is derived the same way from the run's whole definition, so running the
same command again *is* resuming: it finds the same run and asks only for the keys the store lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from glasnost.bank.load import Bank
from glasnost.records import GenerationConfig, Probe, TargetSpec, sha256_json, sha256_text

KEY_VERSION = 1  # bump only if the key recipe itself changes (it would orphan every stored response)


@dataclass(frozen=True, slots=True)
class WorkItem:
    key: str
    probe: Probe
    target: TargetSpec
    sample_index: int


def sample_generation(generation: GenerationConfig, sample_index: int) -> GenerationConfig:
    """Each sample gets its own seed (seed + index) so that samples differ yet stay reproducible."""
    if generation.seed is None or sample_index == 0:
        return generation
    return generation.model_copy(update={"seed": generation.seed + sample_index})


def item_key(
    probe: Probe, target: TargetSpec, generation: GenerationConfig, system_prompt: str | None, sample_index: int
) -> str:
    return sha256_json(
        {
            "v": KEY_VERSION,
            "concept": probe.concept_id,
            "lang": probe.lang,
            "text": probe.text,
            "target": target.identity(),
            "generation": generation.key_dict(),
            "system": system_prompt or "",
            "sample": sample_index,
        }
    )


def select_probes(bank: Bank, languages: list[str] | None, kinds: list[str] | None, limit: int | None) -> list[Probe]:
    """The probes of a run. ``limit`` keeps the first N probes, the same for every target (comparable)."""
    probes = bank.probes(languages, kinds)
    return probes[:limit] if limit is not None else probes


def plan_items(
    probes: list[Probe],
    targets: list[TargetSpec],
    generation: GenerationConfig,
    system_prompt: str | None,
    samples: int,
    render: Callable[[Probe, int], Probe] | None = None,
) -> list[WorkItem]:
    """Items interleaved by probe, then target, then sample: an interrupted run is balanced across targets.

    ``render`` gives the text actually sent for a sample of a probe (mcq probes: shuffled lettered options
    per sample, see glasnost.knows.mcq); it enters the key like any probe text."""
    items: list[WorkItem] = []
    for probe in probes:
        for target in targets:
            for s in range(samples):
                p = render(probe, s) if render is not None else probe
                items.append(WorkItem(item_key(p, target, generation, system_prompt, s), p, target, s))
    return items


def run_id_for(
    bank_fingerprint: str,
    targets: list[TargetSpec],
    languages: list[str] | None,
    kinds: list[str] | None,
    samples: int,
    generation: GenerationConfig,
    system_prompt: str | None,
    limit: int | None,
) -> str:
    definition = {
        "v": KEY_VERSION,
        "bank": bank_fingerprint,
        "targets": [t.identity() for t in targets],
        "languages": languages,
        "kinds": sorted(kinds) if kinds else None,
        "samples": samples,
        "generation": generation.key_dict(),
        "system": system_prompt or "",
        "limit": limit,
    }
    return sha256_json(definition)[:12]


def system_prompt_sha(system_prompt: str | None) -> str | None:
    return sha256_text(system_prompt) if system_prompt else None


def estimate_prompt_tokens(text: str) -> int:
    """A rough token estimate for --dry-run: ~4 chars a token for alphabetic scripts, ~1.5 for CJK."""
    cjk = sum(1 for ch in text if "\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af")
    return int(cjk / 1.5 + (len(text) - cjk) / 4) + 8  # + chat-template overhead
