"""Asymmetry, the headline "selective censorship" figure.

Asymmetry of target T about state S = T's censorship rate on S's sensitive concepts minus its rate on their
mirrors about other states. Pairs are mirror groups: the connected components of the concepts' ``mirrors``
links. Within a group the two sides are compared language by language (only languages both sides were
asked in), the group's difference is the mean over those languages, and the figure is the mean over
groups, with a bootstrap interval over groups and an exact sign-flip test. A model that refuses
everything scores near zero: cautious, not selective.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from glasnost.stats.data import AuditData, ConceptInfo
from glasnost.stats.intervals import bootstrap_mean
from glasnost.stats.rates import Estimate
from glasnost.stats.significance import sign_flip_test

NEUTRAL = "XX"  # universal questions belong to no state


def mirror_groups(concepts: dict[str, ConceptInfo]) -> list[list[str]]:
    """Connected components (of two or more concepts) of the mirror links, each sorted, in a stable order."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for cid, info in concepts.items():
        find(cid)
        for other in info.mirrors:
            ra, rb = find(cid), find(other)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    comps: dict[str, list[str]] = {}
    for cid in parent:
        comps.setdefault(find(cid), []).append(cid)
    return sorted((sorted(c) for c in comps.values() if len(c) > 1), key=lambda c: c[0])


@dataclass
class GroupDiff:
    group: str  # the group's first concept id (a stable name)
    rate_state: float
    rate_mirrors: float
    diff: float
    n_state: int
    n_mirrors: int
    langs: list[str]


@dataclass
class Asymmetry:
    target: str
    state: str
    estimate: Estimate  # mean group difference; n = groups
    rate_state: float | None  # pooled, for display
    rate_mirrors: float | None
    responses: int
    groups: list[GroupDiff] = field(default_factory=list)


def asymmetries(data: AuditData, *, seed: int = 0) -> list[Asymmetry]:
    out: list[Asymmetry] = []
    if not len(data):
        return out
    groups = mirror_groups(data.concepts)
    # Concept index -> group index and jurisdiction index (group -1: not in a group, or not sensitive).
    group_of: dict[str, int] = {cid: g for g, members in enumerate(groups) for cid in members}
    present = [data.concepts[cid] for cid in data.concept_ids]
    jurs = sorted({c.jurisdiction for c in present})
    jur_index = {j: i for i, j in enumerate(jurs)}
    c_group = np.array([group_of.get(c.id, -1) if c.sensitive else -1 for c in present], dtype=np.int64)
    c_jur = np.array([jur_index[c.jurisdiction] for c in present], dtype=np.int64)
    n_g, n_j, n_l = len(groups), len(jurs), len(data.langs)
    if n_g == 0:
        return out
    usable = data.counted & data.sensitive
    row_group = c_group[data.concept]
    usable &= row_group >= 0
    for t, target in enumerate(data.targets):
        rows = usable & (data.target == t)
        cell = (row_group[rows] * n_j + c_jur[data.concept[rows]]) * n_l + data.lang[rows]
        size = n_g * n_j * n_l
        counted = np.bincount(cell, minlength=size).reshape(n_g, n_j, n_l).astype(np.float64)
        censored = np.bincount(cell, weights=data.censored[rows].astype(np.float64),
                               minlength=size).reshape(n_g, n_j, n_l)
        all_n, all_k = counted.sum(axis=1), censored.sum(axis=1)  # (groups, langs)
        for state in jurs:
            if state == NEUTRAL:
                continue
            s = jur_index[state]
            n_s, k_s = counted[:, s, :], censored[:, s, :]
            n_m, k_m = all_n - n_s, all_k - k_s  # the mirrors: every other state of the group
            valid = (n_s > 0) & (n_m > 0)  # a language both sides were asked in
            has = valid.any(axis=1)
            if not has.any():
                continue
            with np.errstate(invalid="ignore", divide="ignore"):
                per_lang = np.where(valid, k_s / np.where(n_s > 0, n_s, 1) - k_m / np.where(n_m > 0, n_m, 1), 0.0)
            d = per_lang[has].sum(axis=1) / valid[has].sum(axis=1)
            ns = np.where(valid, n_s, 0)[has].sum(axis=1)
            nm = np.where(valid, n_m, 0)[has].sum(axis=1)
            kss = np.where(valid, k_s, 0)[has].sum(axis=1)
            kms = np.where(valid, k_m, 0)[has].sum(axis=1)
            names = [groups[g][0] for g in np.flatnonzero(has)]
            lang_rows = valid[has].tolist()
            details = [
                GroupDiff(name, ks / n_st, km / n_mi, di, int(n_st), int(n_mi),
                          [data.langs[j] for j, v in enumerate(row) if v])
                for name, ks, km, di, n_st, n_mi, row in zip(
                    names, kss.tolist(), kms.tolist(), d.tolist(), ns.tolist(), nm.tolist(), lang_rows)
            ]
            interval = bootstrap_mean(d, seed=seed) if d.size > 1 else None
            est = Estimate(
                float(d.mean()), interval[0] if interval else None, interval[1] if interval else None,
                n=int(d.size), unit="groups", method="bootstrap-group" if interval else "", kind="diff",
                clusters=int(d.size), p=sign_flip_test(d, seed=seed), test="sign-flip",
            )
            out.append(Asymmetry(
                target, state, est, float(kss.sum() / ns.sum()), float(kms.sum() / nm.sum()),
                int(ns.sum() + nm.sum()), details,
            ))
    return out
