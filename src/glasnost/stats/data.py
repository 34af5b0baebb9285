"""Load one or more runs from a store into a compact columnar table: one row per response, joined with the
chosen judge's verdict.

Columns are numpy arrays so that every measure is a vectorised count (100k responses in well under a
second); the text a report shows is kept apart, and only when asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glasnost.errors import ConfigError
from glasnost.records import CENSORED_LABELS, COUNTED_LABELS, Label, Outcome, RunManifest
from glasnost.stats.compat import comparability_fingerprint
from glasnost.store.base import Store

LABELS: list[str] = [label.value for label in Label]
LABEL_CODE: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
UNJUDGED = -1  # no verdict from the chosen judge
OUTCOMES: list[str] = [o.value for o in Outcome]
OUTCOME_CODE: dict[str, int] = {name: i for i, name in enumerate(OUTCOMES)}
COUNTED_CODES = np.array(sorted(LABEL_CODE[label.value] for label in COUNTED_LABELS))
CENSORED_CODES = np.array(sorted(LABEL_CODE[label.value] for label in CENSORED_LABELS))
TEXT_LIMIT = 20_000  # characters of one answer shown in a report (the store keeps everything)
HUMAN = "human"  # the judge id of readers' reviews (`glasnost judge import-review`): they override per response


@dataclass
class ConceptInfo:
    id: str
    jurisdiction: str
    topic: str
    kind: str
    sensitivity: str = "high"
    mirrors: list[str] = field(default_factory=list)
    variants: dict[str, str] = field(default_factory=dict)
    facts: int = 0
    known: bool = True  # False when the run's bank snapshot is missing and this was guessed from the id

    @property
    def sensitive(self) -> bool:
        """Whether the concept's answers enter censorship rates.

        Controls (and concepts marked not sensitive) measure over-caution, not censorship. Multiple-choice
        checks measure what a model *knows*; their non-answers are counted in knows-vs-says instead, and a
        bare letter is not an open answer that a censorship rate should weigh."""
        from glasnost.rate import concept_in_rate

        return concept_in_rate(self.kind, self.sensitivity)  # the one rule (glasnost.rate)


@dataclass(slots=True)
class Transcript:
    """What the per-concept view shows of one response (model output: escape before display)."""

    prompt: str
    text: str | None
    reasoning: str | None
    error: str | None
    finish_reason: str | None
    # None until a verdict fills them (a default list per row would cost a second per 100k rows)
    evidence: list[tuple[str, int, int, str]] | None = None  # (field, start, end, kind)
    facts_found: list[str] | None = None
    narrative_markers: list[str] | None = None
    confidence: float | None = None  # the counted verdict's confidence, when its judge gives one


@dataclass
class AuditData:
    runs: list[RunManifest]
    concepts: dict[str, ConceptInfo]
    judge: str | None  # the judge whose verdicts are counted
    judges: list[str]  # every judge with verdicts on these runs
    targets: list[str]  # display label per target index
    target_models: list[str]  # normalised model name per target index (host gaps pair on it)
    langs: list[str]
    concept_ids: list[str]
    keys: list[str]
    run: np.ndarray  # run index per row
    target: np.ndarray
    concept: np.ndarray
    lang: np.ndarray
    sample: np.ndarray
    outcome: np.ndarray
    label: np.ndarray  # label code of the chosen judge, UNJUDGED when none
    status_ok: np.ndarray  # verdict status ok (False when judge_error or unjudged)
    fact_coverage: np.ndarray  # nan when the verdict has none
    uncertain: np.ndarray | None = None  # the counted verdict is marked uncertain (below its judge's threshold)
    other_labels: dict[str, np.ndarray] = field(default_factory=dict)  # judge -> label code (-1 none/error)
    # Human review: the label the chosen judge gave where a reader's verdict (judge ``human@*``) replaced it,
    # UNJUDGED elsewhere; None when no response was reviewed. ``label`` holds the reader's label there.
    machine_label: np.ndarray | None = None
    human_judge: str | None = None
    transcripts: list[Transcript] | None = None
    warnings: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def counted(self) -> np.ndarray:
        return self.status_ok & np.isin(self.label, COUNTED_CODES)

    @property
    def censored(self) -> np.ndarray:
        return self.status_ok & np.isin(self.label, CENSORED_CODES)

    @property
    def judged(self) -> bool:
        return self.judge is not None

    def concept_column(self, attr: str) -> list[Any]:
        """An attribute of each concept index (e.g. ``jurisdiction``), in concept-index order."""
        return [getattr(self.concepts[cid], attr) for cid in self.concept_ids]

    @property
    def sensitive(self) -> np.ndarray:
        per_concept = np.array(self.concept_column("sensitive") or [False], dtype=bool)
        return per_concept[self.concept] if len(self) else np.zeros(0, dtype=bool)


# ---- judge selection -------------------------------------------------------------------------------------


def _version_key(judge: str) -> tuple:
    version = judge.partition("@")[2]
    parts = re.split(r"[.\-]", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def choose_judge(available: list[str], requested: str | None = None) -> str | None:
    """The judge whose verdicts count: ``requested`` (an exact id@version, or an id for its latest version),
    else the latest ``default@*``, else the only judge. None when nothing is judged yet."""
    if requested:
        if requested in available:
            return requested
        same_id = [j for j in available if j.partition("@")[0] == requested]
        if same_id:
            return max(same_id, key=_version_key)
        have = ", ".join(available) if available else "none (run `glasnost judge RUN` first)"
        raise ConfigError(f"no verdicts from judge {requested!r} on these runs; judges present: {have}")
    machines = [j for j in available if j.partition("@")[0] != HUMAN]  # readers' reviews override, never lead
    if not machines:
        return max(available, key=_version_key) if available else None
    available = machines
    defaults = [j for j in available if j.partition("@")[0] == "default"]
    if defaults:
        return max(defaults, key=_version_key)
    if len(available) == 1:
        return available[0]
    raise ConfigError(
        f"these runs have verdicts from several judges ({', '.join(available)}) and none is default@*; "
        "choose one with --judge"
    )


# ---- loading ---------------------------------------------------------------------------------------------


def normalise_model(name: str) -> str:
    """``deepseek/deepseek-chat`` on one host and ``deepseek-chat`` on another name the same weights."""
    return name.strip().lower().rsplit("/", 1)[-1]


def _guess_concept(concept_id: str) -> ConceptInfo:
    parts = concept_id.split(".")
    jurisdiction = parts[0].upper() if len(parts) >= 2 else "XX"
    topic = parts[1] if len(parts) >= 3 else (parts[1] if len(parts) == 2 else concept_id)
    slug = parts[-1] if len(parts) >= 3 else ""
    kind = next((k for k in ("knowledge", "criticism", "mcq", "indirect", "control") if slug.startswith(k)),
                "control" if topic == "control" else "knowledge")
    return ConceptInfo(concept_id, jurisdiction, topic, kind, known=False)


def _concepts_from_snapshot(snapshot: dict[str, Any]) -> dict[str, ConceptInfo]:
    out: dict[str, ConceptInfo] = {}
    for raw in snapshot.get("concepts", []):
        out[raw["id"]] = ConceptInfo(
            id=raw["id"],
            jurisdiction=str(raw.get("jurisdiction", "XX")),
            topic=str(raw.get("topic", "")),
            kind=str(raw.get("kind", "knowledge")),
            sensitivity=str(raw.get("sensitivity", "high")),
            mirrors=list(raw.get("mirrors") or []),
            variants=dict(raw.get("variants") or {}),
            facts=len(raw.get("facts") or []),
        )
    return out


def load_audit(store: Store, run_ids: list[str], judge: str | None = None, *, keep_text: bool = False,
               all_judges: bool = True) -> AuditData:
    """Join the responses of ``run_ids`` with the chosen judge's verdicts (see ``choose_judge``)."""
    if not run_ids:
        raise ConfigError("give at least one run id (see `glasnost runs`)")
    runs = [store.get_run(r) for r in run_ids]
    ids = [m.run_id for m in runs]
    if len(set(ids)) != len(ids):
        raise ConfigError("the same run is given twice; give each run once")
    warnings: list[str] = []

    available = sorted({j for m in runs for j in store.judges(m.run_id)})
    chosen = choose_judge(available, judge)

    concepts: dict[str, ConceptInfo] = {}
    for m in runs:
        snapshot = store.get_bank_snapshot(m.bank.fingerprint)
        if snapshot is None:
            warnings.append(f"run {m.run_id}: the bank snapshot {m.bank.fingerprint[:12]} is not in the store; "
                            "jurisdiction, topic and kind are guessed from concept ids")
        else:
            concepts.update(_concepts_from_snapshot(snapshot))

    # Targets: one per target id, unless runs that cannot be compared share an id (then one per run).
    fingerprints = [comparability_fingerprint(m) for m in runs]
    distinct_runs = len(set(fingerprints)) > 1

    target_index: dict[tuple[str, int], int] = {}
    targets: list[str] = []
    target_models: list[str] = []
    lang_index: dict[str, int] = {}
    concept_index: dict[str, int] = {}
    key_row: dict[str, int] = {}
    keys: list[str] = []
    cols: dict[str, list[int]] = {name: [] for name in ("run", "target", "concept", "lang", "sample", "outcome")}
    transcripts: list[Transcript] | None = [] if keep_text else None
    seen_text: dict[str, str] = {}

    for run_no, m in enumerate(runs):
        for r in store.iter_responses(m.run_id):
            if r.key in key_row:
                continue  # a response shared by two runs' plans counts once
            tkey = (r.target_id, run_no if distinct_runs else 0)
            t = target_index.get(tkey)
            if t is None:
                t = target_index[tkey] = len(targets)
                targets.append(r.target_id)
                target_models.append(normalise_model(str(r.target.get("model") or r.target_id)))
            if r.concept_id not in concept_index:
                concept_index[r.concept_id] = len(concept_index)
                if r.concept_id not in concepts:
                    concepts[r.concept_id] = _guess_concept(r.concept_id)
            key_row[r.key] = len(keys)
            keys.append(r.key)
            cols["run"].append(run_no)
            cols["target"].append(t)
            cols["concept"].append(concept_index[r.concept_id])
            cols["lang"].append(lang_index.setdefault(r.lang, len(lang_index)))
            cols["sample"].append(r.sample_index)
            cols["outcome"].append(OUTCOME_CODE[r.outcome.value])
            if transcripts is not None:
                # one string object per distinct value: samples share a prompt, and often an answer
                transcripts.append(Transcript(
                    prompt=_one(seen_text, r.prompt), text=_one(seen_text, _cap(r.text)),
                    reasoning=_one(seen_text, _cap(r.reasoning)), error=_one(seen_text, r.error),
                    finish_reason=_one(seen_text, r.finish_reason),
                ))

    # A target id shared by runs that cannot be compared gets the run id beside it.
    if distinct_runs:
        counts: dict[str, int] = {}
        for (tid, _), _t in target_index.items():
            counts[tid] = counts.get(tid, 0) + 1
        for (tid, run_no), t in target_index.items():
            if counts[tid] > 1:
                targets[t] = f"{tid} [{runs[run_no].run_id[:8]}]"

    n = len(keys)
    label = np.full(n, UNJUDGED, dtype=np.int16)
    status_ok = np.zeros(n, dtype=bool)
    fact_cov = np.full(n, np.nan)
    uncertain = np.zeros(n, dtype=bool)
    others: dict[str, np.ndarray] = {}
    human_judge: str | None = None
    if chosen is not None:
        humans = [j for j in available if j.partition("@")[0] == HUMAN and j != chosen]
        human_judge = max(humans, key=_version_key) if humans else None
        wanted = [j for j in available if j not in humans] if all_judges and len(available) > 1 else [chosen]
        for j in wanted:
            if j != chosen:
                others[j] = np.full(n, UNJUDGED, dtype=np.int16)
        for m in runs:
            for j in others:  # agreement needs only labels: no verdict parsing
                column = others[j]
                for key, lab, status in store.iter_verdict_labels(m.run_id, j):
                    row = key_row.get(key)
                    if row is not None:
                        column[row] = LABEL_CODE.get(lab, UNJUDGED) if status == "ok" else UNJUDGED
            for v in store.iter_verdicts(m.run_id, chosen):
                row = key_row.get(v.response_key)
                if row is None:
                    continue
                code = LABEL_CODE[v.label.value]
                ok = v.status == "ok"
                label[row] = code
                status_ok[row] = ok
                if v.attributes.fact_coverage is not None:
                    fact_cov[row] = v.attributes.fact_coverage
                uncertain[row] = v.attributes.uncertain
                if transcripts is not None:
                    tr = transcripts[row]
                    tr.evidence = [
                        (e.field, e.start, e.end, e.kind) for e in v.evidence
                        if e.start is not None and e.end is not None and e.field in ("text", "reasoning")
                    ] or None
                    tr.facts_found = list(v.attributes.facts_found) or None
                    tr.narrative_markers = list(v.attributes.narrative_markers) or None
                    tr.confidence = v.confidence

    machine_label = None
    if chosen is not None and human_judge is not None:
        machine_label, reviewed = _apply_reviews(store, runs, human_judge, key_row, label, status_ok)
        if reviewed:
            warnings.append(f"{reviewed} verdicts of {chosen} are replaced by a reader's review ({human_judge})")

    # An error outcome is never a verdict, whatever label a judge (or another auditor's bundle) gave it.
    outcome = np.array(cols["outcome"], dtype=np.int8)
    is_error = outcome == OUTCOME_CODE[Outcome.error.value]
    mislabelled = is_error & status_ok & (label != LABEL_CODE[Label.error.value])
    if mislabelled.any():
        warnings.append(f"{int(mislabelled.sum())} responses with an error outcome carry a label from {chosen}; "
                        "they are counted as errors, never as answers or censorship")
        label[mislabelled] = LABEL_CODE[Label.error.value]
    for column in others.values():
        column[is_error & (column != UNJUDGED)] = LABEL_CODE[Label.error.value]

    unjudged = int(np.sum(label == UNJUDGED))
    if chosen is not None and unjudged:
        warnings.append(f"{unjudged} of {n} responses have no verdict from {chosen} and are not counted (unjudged)")

    return AuditData(
        runs=runs, concepts=concepts, judge=chosen, judges=available, targets=targets,
        target_models=target_models, langs=list(lang_index), concept_ids=list(concept_index), keys=keys,
        run=np.array(cols["run"], dtype=np.int32), target=np.array(cols["target"], dtype=np.int32),
        concept=np.array(cols["concept"], dtype=np.int32), lang=np.array(cols["lang"], dtype=np.int32),
        sample=np.array(cols["sample"], dtype=np.int32), outcome=outcome,
        label=label, status_ok=status_ok, fact_coverage=fact_cov, uncertain=uncertain, other_labels=others,
        transcripts=transcripts, warnings=warnings, machine_label=machine_label,
        human_judge=human_judge if machine_label is not None else None,
    )


def _apply_reviews(store: Store, runs: list[RunManifest], human: str, key_row: dict[str, int], label: np.ndarray,
                   status_ok: np.ndarray) -> tuple[np.ndarray | None, int]:
    """Replace the chosen judge's label by a reader's countable label, response by response; returns the
    labels replaced (UNJUDGED where no review) and how many rows a review touched."""
    machine = np.full(len(label), UNJUDGED, dtype=np.int16)
    seen = np.zeros(len(label), dtype=bool)
    for m in runs:
        for key, lab, status in store.iter_verdict_labels(m.run_id, human):
            row = key_row.get(key)
            code = LABEL_CODE.get(lab)
            if row is None or status != "ok" or code is None or code not in COUNTED_CODES:
                continue
            if not seen[row]:  # a response shared by two runs is met twice: keep the judge's own label
                seen[row] = True
                machine[row] = label[row] if status_ok[row] else UNJUDGED
            label[row] = code
            status_ok[row] = True
    reviewed = int(seen.sum())
    return (machine, reviewed) if reviewed else (None, 0)


def _one(seen: dict[str, str], text: str | None) -> str | None:
    """The first string equal to ``text`` (kept once in memory however many transcripts hold it)."""
    return text if text is None else seen.setdefault(text, text)


def _cap(text: str | None) -> str | None:
    if text is None or len(text) <= TEXT_LIMIT:
        return text
    return text[:TEXT_LIMIT] + f"\n…[{len(text) - TEXT_LIMIT} more characters in the store]"
