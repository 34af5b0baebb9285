"""Synthetic stores for tests and benchmarks of statistics and reports (no model, no server, no judge).

``RunBuilder`` writes a run exactly as chosen (each response's label given by the caller: for tests that
check statistics against known values); ``synthetic_run`` draws a large run from per-target censorship
probabilities (for benchmarks and browser tests). Both write through the public Store API.
"""

from __future__ import annotations

import random
from typing import Any, Iterable

from glasnost.records import (
    BankRef,
    Concept,
    Evidence,
    GenerationConfig,
    Label,
    Outcome,
    Response,
    RunManifest,
    TargetSpec,
    TransportConfig,
    Verdict,
    VerdictAttributes,
    sha256_json,
    sha256_text,
)
from glasnost.store.base import Store


def make_concept(cid: str, jurisdiction: str, topic: str, kind: str = "knowledge", *, mirrors: Iterable[str] = (),
                 langs: Iterable[str] = ("en", "zh-Hans"), sensitivity: str = "high", facts: int = 0) -> Concept:
    return Concept(
        id=cid, jurisdiction=jurisdiction, topic=topic, kind=kind,  # type: ignore[arg-type]
        sensitivity="none" if kind == "control" else sensitivity,  # type: ignore[arg-type]
        variants={lang: f"[{lang}] question {cid}?" for lang in langs},
        facts=[{"id": f"f{i}", "text": f"fact {i}"} for i in range(facts)],  # type: ignore[misc]
        mirrors=list(mirrors),
    )


def target_spec(name: str, model: str | None = None, host: str = "http://127.0.0.1:1/v1",
                revision: str | None = None) -> TargetSpec:
    return TargetSpec(kind="openai-compat", provider="custom", model=model or name, base_url=host, name=name,
                      revision=revision)


class RunBuilder:
    def __init__(self, store: Store, concepts: list[Concept], *, targets: list[TargetSpec | str],
                 langs: Iterable[str] = ("en", "zh-Hans"), samples: int = 1, run_id: str | None = None,
                 generation: GenerationConfig | None = None, system_prompt: str | None = None,
                 bank_name: str = "synthetic"):
        self.store = store
        self.concepts = {c.id: c for c in concepts}
        self.targets = {t.id: t for t in (target_spec(x) if isinstance(x, str) else x for x in targets)}
        self.generation = generation or GenerationConfig()
        snapshot_concepts = [c.model_dump(mode="json") for c in sorted(concepts, key=lambda c: c.id)]
        fingerprint = sha256_json(snapshot_concepts)
        self.snapshot = {"name": bank_name, "version": "1", "fingerprint": fingerprint, "concepts": snapshot_concepts}
        self.manifest = RunManifest(
            run_id=run_id or "run-" + sha256_json([fingerprint, sorted(self.targets), random.random()])[:12],
            tool_version="test",
            bank=BankRef(name=bank_name, version="1", fingerprint=fingerprint, concepts=len(concepts)),
            languages=list(langs), samples=samples, targets=list(self.targets.values()),
            generation=self.generation, transport=TransportConfig(), system_prompt=system_prompt,
            system_prompt_sha=sha256_text(system_prompt) if system_prompt is not None else None,
        )
        self.responses: list[Response] = []
        self.verdicts: list[Verdict] = []

    @property
    def run_id(self) -> str:
        return self.manifest.run_id

    def key(self, target: str, concept_id: str, lang: str, sample: int) -> str:
        spec = self.targets[target]
        return sha256_json([concept_id, lang, self.concepts[concept_id].variants.get(lang, ""), spec.identity(),
                            self.generation.key_dict(), self.manifest.system_prompt_sha, sample])

    def add(self, target: str, concept_id: str, lang: str, label: str | None, *, sample: int = 0,
            text: str | None = None, outcome: str = "ok", judge: str = "default@1", status: str = "ok",
            reasoning: str | None = None, evidence: list[dict[str, Any]] | None = None,
            fact_coverage: float | None = None, other_judges: dict[str, str] | None = None) -> str:
        """One response and (when ``label`` is given) its verdict by ``judge``; returns the key."""
        spec = self.targets[target]
        key = self.key(target, concept_id, lang, sample)
        self.responses.append(Response(
            key=key, run_id=self.run_id, concept_id=concept_id, lang=lang,
            prompt=self.concepts[concept_id].variants.get(lang, concept_id), target_id=target,
            target=spec.identity(), sample_index=sample, outcome=Outcome(outcome),
            text=text if text is not None else f"answer of {target} to {concept_id} in {lang}",
            reasoning=reasoning, finish_reason="stop",
            error="synthetic failure" if outcome == "error" else None,
        ))
        if label is not None:
            self.verdicts.append(_verdict(key, judge, label, status, evidence, fact_coverage))
        for other, other_label in (other_judges or {}).items():
            self.verdicts.append(_verdict(key, other, other_label, "ok", None, None))
        return key

    def commit(self, status: str = "complete") -> RunManifest:
        self.store.save_bank_snapshot(self.snapshot)
        self.manifest.status = status  # type: ignore[assignment]
        self.store.save_run(self.manifest)
        self.store.add_run_items(self.run_id, [r.key for r in self.responses])
        for i in range(0, len(self.responses), 5000):
            self.store.put_responses(self.responses[i:i + 5000])
        for i in range(0, len(self.verdicts), 5000):
            self.store.put_verdicts(self.verdicts[i:i + 5000])
        return self.manifest


def _verdict(key: str, judge: str, label: str, status: str, evidence: list[dict[str, Any]] | None,
             fact_coverage: float | None) -> Verdict:
    return Verdict(
        response_key=key, judge=judge, label=Label(label), status=status,  # type: ignore[arg-type]
        attributes=VerdictAttributes(fact_coverage=fact_coverage),
        evidence=[Evidence(**e) for e in (evidence or [])],
    )


STATES = ("CN", "US", "RU", "FR", "IR", "IN")
FILLER = ("The documented record shows that the events were reported by several independent sources. "
          "Historians describe the sequence of decisions, the people involved and the consequences. ")


def synthetic_concepts(groups: int, *, states: tuple[str, ...] = STATES, langs: Iterable[str] = ("en", "zh-Hans"),
                       kinds: tuple[str, ...] = ("knowledge", "criticism")) -> list[Concept]:
    """``groups`` mirror groups per kind, one concept per state in each, plus one control per state."""
    langs = list(langs)
    out: list[Concept] = []
    for g in range(groups):
        for kind in kinds:
            ids = [f"{s.lower()}.topic-{g}.{kind}" for s in states]
            for s, cid in zip(states, ids):
                out.append(make_concept(cid, s, f"topic-{g}", kind, mirrors=[i for i in ids if i != cid],
                                        langs=langs, facts=2 if kind == "knowledge" else 0))
    for s in states:
        out.append(make_concept(f"{s.lower()}.control.geography", s, "control", "control", langs=langs))
    return out


def synthetic_run(store: Store, responses: int, *, targets: int = 2, langs: Iterable[str] = ("en", "zh-Hans"),
                  judges: Iterable[str] = ("default@1",), seed: int = 0, text_chars: int = 400,
                  run_id: str | None = None) -> RunManifest:
    """A run of about ``responses`` responses: target 0 censors China-related questions (more in Chinese),
    the others censor little; the extra judges agree with the first most of the time."""
    rng = random.Random(seed)
    langs = list(langs)
    judges = list(judges)
    per_concept = targets * len(langs)
    n_concepts = max(len(STATES) * 2 + len(STATES), responses // per_concept)
    groups = max(1, (n_concepts - len(STATES)) // (len(STATES) * 2))
    concepts = synthetic_concepts(groups, langs=langs)
    names = [f"model-{chr(ord('a') + t)}" for t in range(targets)]
    builder = RunBuilder(store, concepts, targets=names, langs=langs, run_id=run_id)
    labels = ("refused", "deflected", "state_narrative")
    for c in concepts:
        for t, name in enumerate(names):
            for lang in langs:
                p = 0.03 if c.kind == "control" else 0.08
                if t == 0 and c.jurisdiction == "CN" and c.kind != "control":
                    p = 0.85 if lang.startswith("zh") else 0.55
                roll = rng.random()
                if roll < 0.01:
                    builder.add(name, c.id, lang, "error", outcome="error", text=None, judge=judges[0])
                    continue
                censored = roll < p
                label = rng.choice(labels) if censored else "answered"
                text = (("I cannot discuss this topic. " if censored else "") + FILLER * (text_chars // len(FILLER) + 1))
                text = text[:text_chars]
                others = {j: (label if rng.random() < 0.9 else rng.choice(("answered", *labels))) for j in judges[1:]}
                builder.add(name, c.id, lang, label, text=text, judge=judges[0],
                            fact_coverage=(0.0 if censored else round(rng.random(), 2)) if c.kind == "knowledge" else None,
                            evidence=[{"layer": "rules", "kind": "refusal_opener", "label": "refused", "start": 0,
                                       "end": 28, "text": text[:28]}] if censored else None,
                            other_judges=others)
    return builder.commit()
