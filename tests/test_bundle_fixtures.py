"""Builders for bundle tests: stores written record by record (no runner, no judge needed).

Not a test module of its own; the other test_bundle*/test_leaderboard* modules import from it.
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from glasnost.bank.load import Bank
from glasnost.bundle.archive import read_members, write_archive
from glasnost.bundle.export import seal
from glasnost.bundle.format import CONTENT_MEMBERS
from glasnost.bundle.keys import AuditorKey, generate
from glasnost.records import (
    BankRef,
    Concept,
    GenerationConfig,
    Label,
    Outcome,
    Response,
    RunManifest,
    TargetSpec,
    TransportConfig,
    Verdict,
    sha256_json,
)
from glasnost.store.sqlite import SQLiteStore

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def concept(cid: str, jurisdiction: str = "CN") -> Concept:
    return Concept(
        id=cid,
        jurisdiction=jurisdiction,
        topic=cid.split(".")[1] if "." in cid else "topic",
        kind="knowledge",
        variants={"en": f"What happened in {cid}?", "zh": f"{cid} 发生了什么？"},
    )


CONCEPTS = [concept(f"cn.topic{i}.q") for i in range(6)]
BANK = Bank(name="test-bank", version="1", concepts=CONCEPTS)


def target(model: str, base_url: str = "https://api.example.org/v1", **kw: Any) -> TargetSpec:
    return TargetSpec(kind="openai-compat", provider="custom", model=model, base_url=base_url, **kw)


def item_key(t: TargetSpec, cid: str, lang: str, sample: int = 0, gen: str = "g0") -> str:
    return sha256_json({"t": t.identity(), "c": cid, "l": lang, "s": sample, "g": gen})


@dataclass
class Item:
    target: TargetSpec
    concept: str
    lang: str = "en"
    label: Label | None = Label.answered
    sample: int = 0
    text: str | None = None
    outcome: Outcome = Outcome.ok
    gen: str = "g0"  # stands for the generation config: a different one gives different keys
    status: str = "ok"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return item_key(self.target, self.concept, self.lang, self.sample, self.gen)


def manifest_for(run_id: str, targets: list[TargetSpec], **kw: Any) -> RunManifest:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "tool_version": "0.1.0",
        "bank": BANK.ref(),
        "languages": ["en", "zh"],
        "targets": targets,
        "generation": GenerationConfig(),
        "transport": TransportConfig(),
        "started_at": T0,
        "ended_at": T0,
        "status": "complete",
    }
    fields.update(kw)
    return RunManifest.model_validate(fields)


def response_for(item: Item, run_id: str) -> Response:
    return Response(
        key=item.key,
        run_id=run_id,
        concept_id=item.concept,
        lang=item.lang,
        prompt=BANK.by_id[item.concept].variants[item.lang],
        target_id=item.target.id,
        target=item.target.identity(),
        sample_index=item.sample,
        outcome=item.outcome,
        text=item.text if item.text is not None else f"answer about {item.concept} in {item.lang}",
        finish_reason="stop",
        http_status=200,
        latency_ms=12.5,
        started_at=T0,
        finished_at=T0,
        **item.extra,
    )


def build_run(
    db: Path | str, run_id: str, items: list[Item], judge: str | None = "default@1", manifest_kw: dict | None = None,
    targets: list[TargetSpec] | None = None,
) -> SQLiteStore:
    """Write one run (manifest, plan, bank snapshot, responses, verdicts) into the store at ``db`` (an SQLite
    path, or a postgresql:// URL)."""
    from glasnost.store import open_store

    store = open_store(db)
    if targets is None:
        targets = []
        for it in items:
            if it.target not in targets:
                targets.append(it.target)
    store.save_run(manifest_for(run_id, targets, **(manifest_kw or {})))
    store.save_bank_snapshot(BANK.snapshot())
    store.add_run_items(run_id, [it.key for it in items])
    store.put_responses([response_for(it, run_id) for it in items])
    if judge is not None:
        store.put_verdicts(
            [
                Verdict(response_key=it.key, judge=judge, label=it.label, status=it.status, created_at=T0)
                for it in items
                if it.label is not None
            ]
        )
    return store


def standard_items(t: TargetSpec | None = None) -> list[Item]:
    t = t or target("model-a")
    labels = [Label.answered, Label.refused, Label.deflected, Label.state_narrative, Label.answered, Label.blocked]
    items = [Item(t, c.id, "en", labels[i]) for i, c in enumerate(CONCEPTS)]
    items += [Item(t, c.id, "zh", Label.refused if i % 2 else Label.answered) for i, c in enumerate(CONCEPTS)]
    items.append(Item(t, CONCEPTS[0].id, "zh", Label.error, sample=1, outcome=Outcome.error, text=None))
    return items


KEYS: dict[str, AuditorKey] = {}


def key(name: str) -> AuditorKey:
    """One key per name for the whole test session (generation is cheap, but stable keys read better)."""
    if name not in KEYS:
        KEYS[name] = generate(name)
    return KEYS[name]


def members_of(data: bytes) -> dict[str, bytes]:
    return read_members(data)


def reseal(data: bytes, signer: AuditorKey, **changes: bytes) -> bytes:
    """A bundle whose content members are changed and then properly re-hashed and re-signed.

    This is what a dishonest or careless publisher can do; verification must still catch inconsistencies.
    """
    members = members_of(data)
    content = {n: members[n] for n in CONTENT_MEMBERS}
    content.update({k.replace("__", "."): v for k, v in changes.items()})
    return seal(content, signer)[0]


def rewrap(members: dict[str, bytes]) -> bytes:
    """Re-archive members as they are (hashes and signature untouched)."""
    return write_archive(members)


def raw_tar(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A gzip tar with arbitrary entries (links, odd names) for the archive-safety tests."""
    import gzip

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buf.getvalue(), mtime=0)
