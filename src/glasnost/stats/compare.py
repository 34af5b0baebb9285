"""Compare runs response by response: the same question, language and sample, asked in two runs.

Pairs only mean something when both runs asked the same questions the same way, so runs whose
comparability fingerprints differ are refused unless forced (and then what differs is said).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glasnost.errors import ConfigError
from glasnost.stats.analysis import adjust
from glasnost.stats.compat import differences
from glasnost.stats.data import AuditData, choose_judge, load_audit
from glasnost.stats.paired import PairedResult, paired_difference
from glasnost.store.base import Store

FLIPS_KEPT = 50  # flipped questions listed per pair (the counts are always complete)


@dataclass
class RunPair:
    base: str  # run id
    other: str
    target_a: str
    target_b: str
    lang: str | None  # None: every language
    result: PairedResult
    newly_censored: list[tuple[str, str, int]] = field(default_factory=list)  # answered in base, censored in other
    newly_answered: list[tuple[str, str, int]] = field(default_factory=list)


@dataclass
class Comparison:
    judge: str | None
    runs: list[str]
    differences: dict[str, list[str]]  # other run id -> what differs from the base run (empty: comparable)
    pairs: list[RunPair]
    warnings: list[str] = field(default_factory=list)


def check_comparable(store: Store, run_ids: list[str], force: bool = False) -> dict[str, list[str]]:
    """What differs between the first run and each other one; a ConfigError unless ``force``."""
    manifests = [store.get_run(r) for r in run_ids]
    base = manifests[0]
    diffs = {m.run_id: differences(base, m) for m in manifests[1:]}
    bad = {rid: d for rid, d in diffs.items() if d}
    if bad and not force:
        parts = [f"{base.run_id} vs {rid}: " + "; ".join(d) for rid, d in bad.items()]
        raise ConfigError("runs are not comparable (" + " | ".join(parts) + "); pass --force to pair them anyway")
    return diffs


def _side(data: AuditData, t: int, lang: str | None, codes: dict[tuple[str, str, int], int]):
    rows = data.counted & data.sensitive & (data.target == t)
    if lang is not None:
        if lang not in data.langs:
            return None
        rows &= data.lang == data.langs.index(lang)
    idx = np.flatnonzero(rows)
    keys = np.array([codes.setdefault((data.concept_ids[data.concept[i]], data.langs[data.lang[i]],
                                       int(data.sample[i])), len(codes)) for i in idx], dtype=np.int64)
    _, first = np.unique(keys, return_index=True)  # one row per key (a key can repeat only in merged runs)
    idx, keys = idx[np.sort(first)], keys[np.sort(first)]
    return keys, data.censored[idx], data.concept[idx], idx


def _pair(a: AuditData, ta: int, b: AuditData, tb: int, lang: str | None, seed: int):
    codes: dict[tuple[str, str, int], int] = {}
    side_a, side_b = _side(a, ta, lang, codes), _side(b, tb, lang, codes)
    if side_a is None or side_b is None:
        return None
    key_a, cens_a, conc_a, _ = side_a
    key_b, cens_b, _, _ = side_b
    # Bootstrap clusters are concepts, named by id so both runs agree on them.
    concept_codes = {cid: i for i, cid in enumerate(sorted(set(a.concept_ids) | set(b.concept_ids)))}
    clusters = np.array([concept_codes[a.concept_ids[c]] for c in conc_a], dtype=np.int64)
    result = paired_difference(key_a, cens_a, key_b, cens_b, clusters, a=a.targets[ta], b=b.targets[tb], seed=seed)
    names = {v: k for k, v in codes.items()}
    common, ia, ib = np.intersect1d(key_a, key_b, assume_unique=True, return_indices=True)
    up = [names[int(k)] for k, x, y in zip(common, cens_a[ia], cens_b[ib]) if y and not x]
    down = [names[int(k)] for k, x, y in zip(common, cens_a[ia], cens_b[ib]) if x and not y]
    return result, sorted(up)[:FLIPS_KEPT], sorted(down)[:FLIPS_KEPT]


def compare_runs(store: Store, run_ids: list[str], *, judge: str | None = None, force: bool = False,
                 seed: int = 0) -> Comparison:
    """Every run after the first is compared with the first, target by target (same target id when the
    runs share one, else every target of the first with every target of the other), overall and per
    language; all testable p-values are Holm-adjusted together (too few discordant pairs to
    ever reach p < 0.05: too few to tell, left out)."""
    if len(run_ids) < 2:
        raise ConfigError("compare needs at least two runs: glasnost compare RUN_A RUN_B")
    diffs = check_comparable(store, run_ids, force)
    runs = [store.get_run(r) for r in run_ids]
    if len({m.run_id for m in runs}) != len(runs):
        raise ConfigError("the same run is given twice; compare different runs (see `glasnost runs`)")
    available = sorted({j for m in runs for j in store.judges(m.run_id)})
    chosen = choose_judge(available, judge)
    if chosen is None:
        raise ConfigError("none of these runs is judged yet; run `glasnost judge RUN` on each first")
    datasets = [load_audit(store, [m.run_id], chosen, all_judges=False) for m in runs]
    warnings: list[str] = []
    for m, d in zip(runs, datasets):
        if d.judge is None or not d.counted.any():
            warnings.append(f"run {m.run_id} has no counted verdicts from {chosen}")
    base = datasets[0]
    pairs: list[RunPair] = []
    for other, data in zip(runs[1:], datasets[1:]):
        shared = [t for t in base.targets if t in data.targets]
        combos = ([(base.targets.index(t), data.targets.index(t)) for t in shared] if shared else
                  [(ta, tb) for ta in range(len(base.targets)) for tb in range(len(data.targets))])
        langs = [lang for lang in base.langs if lang in data.langs]
        for ta, tb in combos:
            for lang in [None, *langs] if len(langs) > 1 else [None]:
                got = _pair(base, ta, data, tb, lang, seed)
                if got is None:
                    continue
                result, up, down = got
                pairs.append(RunPair(runs[0].run_id, other.run_id, base.targets[ta], data.targets[tb], lang,
                                     result, up, down))
    adjust([p.result.diff for p in pairs])
    return Comparison(chosen, [m.run_id for m in runs], diffs, pairs, warnings)
