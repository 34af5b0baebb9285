"""Merge verified bundles by several auditors: one row per target identity, agreement, conflicts.

Rules (also in docs/bundle-format.md):
- An auditor is a public key (fingerprint); several bundles by one auditor are pooled, the first given
  on the command line deciding when they label one response differently.
- A target is its identity (kind, provider, base_url, model, revision), whatever display name each
  auditor gave it.
- A response key published with different content by two bundles is a *content conflict*; two bundles
  whose verdicts by the same judge id@version differ on one key are a *verdict conflict*. Both are
  flagged; content-conflicted responses are left out of the pooled rates.
- Pooled rate of a target: each distinct response counts once; its label is the one its auditors agree
  on, else the strict majority, else it is *disputed* and left out (and counted as such).
- Agreement of two auditors on a target: pairs of their labels on shared response keys, then on shared
  (concept, lang, sample) among the rest; raw agreement and Cohen's kappa over those pairs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from glasnost import rate as rate_rule
from glasnost.bundle.importer import content
from glasnost.bundle.summary import bucket, rate_fields
from glasnost.bundle.verify import VerifiedBundle
from glasnost.records import Label, Response, sha256_json
from glasnost.stats.agreement import cohen_kappa


def target_key(identity: dict[str, Any]) -> str:
    return sha256_json(identity)[:16]


def host_of(identity: dict[str, Any]) -> str:
    base = identity.get("base_url")
    if base:
        return urlsplit(base).netloc or base
    return str(identity.get("provider") or identity.get("kind") or "")


@dataclass
class Rate:
    n_responses: int = 0
    n_counted: int = 0
    n_censored: int = 0
    disputed: int = 0
    unjudged: int = 0
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    def close(self) -> "Rate":
        self.rate, self.ci_low, self.ci_high = rate_fields(self.n_censored, self.n_counted)
        return self


@dataclass
class Agreement:
    target: str
    auditor_a: str  # fingerprint
    auditor_b: str
    n: int
    n_by_key: int
    agree: int
    raw: float | None
    kappa: float | None


@dataclass
class Conflict:
    kind: str  # "content" or "verdict"
    target: str
    key: str
    concept_id: str
    lang: str
    auditors: list[str]  # fingerprints
    judge: str | None = None
    labels: list[str] = field(default_factory=list)


@dataclass
class Row:
    target: str  # target_key
    identity: dict[str, Any]
    names: list[str]  # display ids the auditors used
    host: str
    auditors: list[str]  # fingerprints
    pooled: Rate
    by_lang: dict[str, Rate]
    conflicts: int = 0
    agreements: list[Agreement] = field(default_factory=list)


@dataclass
class Auditor:
    fingerprint: str
    name: str
    public_key: str
    bundles: list[str]  # roots
    trusted_as: str | None = None


@dataclass
class Leaderboard:
    auditors: dict[str, Auditor]
    rows: list[Row]
    conflicts: list[Conflict]
    bundles: list[dict[str, Any]]  # root, auditor fingerprint, source file name, run_id, judge, responses


def merge(bundles: list[VerifiedBundle]) -> Leaderboard:
    auditors: dict[str, Auditor] = {}
    bundle_info: list[dict[str, Any]] = []
    # (auditor, key) -> label; key -> first response; key -> {auditor: response}
    labels: dict[tuple[str, str], str] = {}
    first: dict[str, Response] = {}
    holders: dict[str, dict[str, Response]] = defaultdict(dict)
    judged: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (key, judge) -> [(fp, label)]
    names: dict[str, set[str]] = defaultdict(set)
    seen_roots: set[str] = set()
    in_rate: dict[str, bool] = {}  # concept id -> enters censorship rates (glasnost.rate, as the report)
    for vb in bundles:
        if vb.root in seen_roots:
            continue  # the same bundle given twice counts once
        seen_roots.add(vb.root)
        fp = vb.fingerprint
        a = auditors.setdefault(fp, Auditor(fp, vb.auditor, vb.public_key, [], vb.trusted_as))
        a.bundles.append(vb.root)
        bundle_info.append(
            {"root": vb.root, "auditor": fp, "source": _file_name(vb.source), "run_id": vb.manifest.run_id,
             "judge": vb.judge, "responses": len(vb.responses)}
        )
        verdicts = {v.response_key: v for v in vb.verdicts}
        in_rate.update(rate_rule.in_rate_by_concept(vb.bank))
        for r in vb.responses:
            first.setdefault(r.key, r)
            holders[r.key].setdefault(fp, r)
            names[target_key(r.target)].add(r.target_id)
            v = verdicts.get(r.key)
            if v is not None:
                judged[(r.key, v.judge)].append((fp, bucket(v, r)))
                labels.setdefault((fp, r.key), bucket(v, r))

    conflicts: list[Conflict] = []
    content_conflicted: set[str] = set()
    for key, by_fp in holders.items():
        if len({content(r) for r in by_fp.values()}) > 1:
            content_conflicted.add(key)
            r = first[key]
            conflicts.append(Conflict("content", target_key(r.target), key, r.concept_id, r.lang, sorted(by_fp)))
    for (key, judge), given in sorted(judged.items()):
        if len({label for _, label in given}) > 1:
            r = first[key]
            conflicts.append(
                Conflict("verdict", target_key(r.target), key, r.concept_id, r.lang,
                         [fp for fp, _ in given], judge, [label for _, label in given])
            )

    by_target: dict[str, list[str]] = defaultdict(list)
    for key, r in first.items():
        by_target[target_key(r.target)].append(key)
    rows: list[Row] = []
    for tk, keys in by_target.items():
        identity = first[keys[0]].target
        fps = sorted({fp for k in keys for fp in holders[k]}, key=lambda fp: (auditors[fp].name, fp))
        pooled, by_lang = Rate(), defaultdict(Rate)
        for key in sorted(keys):
            if key in content_conflicted:
                continue
            lang = first[key].lang
            for rate in (pooled, by_lang[lang]):
                _count(rate, [labels[(fp, key)] for fp in fps if (fp, key) in labels],
                       in_rate.get(first[key].concept_id, True))
        row = Row(
            target=tk,
            identity=identity,
            names=sorted(names[tk]),
            host=host_of(identity),
            auditors=fps,
            pooled=pooled.close(),
            by_lang={lang: r.close() for lang, r in sorted(by_lang.items())},
            conflicts=sum(1 for c in conflicts if c.target == tk),
        )
        for i, fa in enumerate(fps):
            for fb in fps[i + 1 :]:
                pair = agreement(tk, fa, fb, keys, holders, labels)
                if pair.n:  # only auditors who rated the same probes are compared
                    row.agreements.append(pair)
        rows.append(row)
    rows.sort(key=lambda r: (-(r.pooled.rate if r.pooled.rate is not None else -1), r.names[0] if r.names else r.target))
    return Leaderboard(auditors=auditors, rows=rows, conflicts=conflicts, bundles=bundle_info)


def _count(rate: Rate, given: list[str], concept_in_rate: bool = True) -> None:
    rate.n_responses += 1
    if not given:
        rate.unjudged += 1
        return
    top = Counter(given).most_common()
    if len(top) > 1 and top[0][1] == top[1][1]:
        rate.disputed += 1
        return
    counted, censored = rate_rule.counts(top[0][0], concept_in_rate)
    rate.n_counted += counted
    rate.n_censored += censored


def agreement(
    tk: str, fa: str, fb: str, keys: list[str], holders: dict[str, dict[str, Response]],
    labels: dict[tuple[str, str], str],
) -> Agreement:
    pairs: list[tuple[str, str]] = []
    rest_a: dict[tuple, str] = {}
    rest_b: dict[tuple, str] = {}
    for key in sorted(keys):
        la, lb = labels.get((fa, key)), labels.get((fb, key))
        if la == Label.unclassifiable.value:
            la = None  # a judge error is no rating
        if lb == Label.unclassifiable.value:
            lb = None
        if la is not None and lb is not None:
            pairs.append((la, lb))
            continue
        for fp, label, rest in ((fa, la, rest_a), (fb, lb, rest_b)):
            r = holders[key].get(fp)
            if label is not None and r is not None:
                rest.setdefault((r.concept_id, r.lang, r.sample_index), label)
    n_by_key = len(pairs)
    for probe in sorted(set(rest_a) & set(rest_b)):
        pairs.append((rest_a[probe], rest_b[probe]))
    k = cohen_kappa([a for a, _ in pairs], [b for _, b in pairs])
    agree = sum(1 for a, b in pairs if a == b)
    return Agreement(
        target=tk, auditor_a=fa, auditor_b=fb, n=len(pairs), n_by_key=n_by_key, agree=agree,
        raw=round(agree / len(pairs), 6) if pairs else None,
        kappa=round(k.kappa, 6) if k.kappa is not None else None,
    )


def _file_name(source: str) -> str:
    # Only the file name: the folder it was read from is the reader's local path.
    return source.replace("\\", "/").rsplit("/", 1)[-1]
