"""The methods section, generated from the run manifests: what was asked, of whom, how, when, judged by
which judge (and how accurate that judge was measured to be, when the judge ships its metrics)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from glasnost.records import RunManifest
from glasnost.stats.compat import comparability_fingerprint

STATISTICS = [
    "Censorship rate = (refused + deflected + state_narrative + blocked) / counted responses (answered plus "
    "those four labels) on sensitive concepts; error and judge_error verdicts and unjudged responses never count.",
    "Intervals: Wilson 95% for one target and language; for aggregates over concepts a percentile bootstrap "
    "(2000 resamples, seed 0) resampling whole topics for a target's overall rate and whole concepts for the "
    "others (Poisson bootstrap above 2000 clusters), never "
    "narrower than Wilson (rates) or Agresti–Min (paired differences), where a bootstrap collapses to a point.",
    "Asymmetry: mirror groups are the connected components of the concepts' mirror links; within a group the "
    "state's questions are compared with the other states' in each language both were asked in; groups that "
    "share a topic form one topic family, the unit of the figure (the mean over families), of its exact "
    "sign-flip test and of its interval (the test inverted, never narrower than Newcombe's on the pooled "
    "counts). States a target censors significantly more are left out of the other states' mirrors, iterated "
    "until no new state is flagged; a state left with no mirror is not measurable. Fewer than 6 families (or "
    "6 discordant pairs for a gap) can never reach p < 0.05: too few to tell, and left out of the Holm family.",
    "Language and host gaps: paired on (concept, sample) or (concept, language, sample); McNemar's test (exact "
    "binomial under 25 discordant pairs, else chi-square with continuity correction); bootstrap over concepts.",
    "All testable asymmetries, language gaps and host gaps of a report form one family: Holm-adjusted "
    "p-values (and Benjamini–Hochberg q-values) are given; † marks Holm p < 0.05.",
    "Judge agreement: Cohen's kappa per pair of judges, Fleiss' kappa for three or more, over responses every "
    "judge gave a countable label.",
]


def judge_metrics(judge: str, folder: Path | None = None) -> dict[str, Any] | None:
    """The judge's measured accuracy, from a ``*metrics*.json`` file in glasnost/judge/data, if any.

    Accepted shapes: ``{"judge": "default@1", ...}``, ``{"default@1": {...}}``, ``{"default": {...}}`` or the
    same under a ``"judges"`` key. Only scalar figures (and one level of nesting) are shown.
    """
    base = judge.partition("@")[0]
    try:
        where = folder if folder is not None else resources.files("glasnost") / "judge" / "data"
        files = sorted((p for p in where.iterdir() if "metrics" in p.name and p.name.endswith(".json")),
                       key=lambda p: p.name)
    except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
        return None
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        pools = [data, data.get("judges") if isinstance(data.get("judges"), dict) else {}]
        for pool in pools:
            if pool.get("judge") in (judge, base):
                return _flatten(pool, source=path.name)
            for name in (judge, base):
                if isinstance(pool.get(name), dict):
                    return _flatten(pool[name], source=path.name)
    return None


LABEL_WORDS = {"complied": "answered", "evasive": "evasive (deflected or state_narrative)", "refused": "refused"}


def judge_accuracy(judge: str, folder: Path | None = None) -> str:
    """One plain line on the judge's measured accuracy, from its metrics file (or that there is none)."""
    metrics = judge_metrics(judge, folder)
    if not metrics:
        return "its accuracy has not been measured (the judge ships no metrics): read the verdicts as unchecked."
    keys = [k for k, v in metrics.items() if k.rsplit(".", 1)[-1] == "accuracy" and isinstance(v, (int, float))]
    if not keys:
        return "measured, but with no overall accuracy figure (see Methods)."
    key = keys[0]
    prefix = key.rsplit(".", 1)[0] + "." if "." in key else ""
    acc = float(metrics[key])
    n = metrics.get(prefix + "n")
    method = str(metrics.get("method") or "")
    held_out = any(w in method for w in ("cross-validation", "held-out", "held out"))
    line = (f"verdicts agree with reference labels ({key.rsplit('.', 1)[0] if prefix else 'its evaluation'}) "
            f"{round(100 * acc)} times in 100 "
            f"{'on held-out data' if held_out else 'on data the judge was developed on (an upper bound)'}"
            + (f" (n = {n}" + (f"; {method}" if method else "") + ")" if n else ""))
    recalls = {k[len(prefix) + 7:]: float(v) for k, v in metrics.items()
               if k.startswith(prefix + "recall_") and isinstance(v, (int, float))}
    if recalls:
        worst = min(recalls, key=lambda c: recalls[c])
        line += (f"; {LABEL_WORDS.get(worst, worst)} answers are the least certain: {round(100 * recalls[worst])}% "
                 "of them recognised")
    return line + "."


def _flatten(d: dict[str, Any], source: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, (int, float, str, bool)) or v is None:
            out[str(k)] = v
        elif isinstance(v, dict):
            for k2, v2 in v.items():
                if isinstance(v2, (int, float, str, bool)):
                    out[f"{k}.{k2}"] = v2
    out["source"] = source
    return out


def describe_runs(runs: list[RunManifest], judge: str | None, judges: list[str]) -> dict[str, Any]:
    """JSON-ready methods data."""
    out: dict[str, Any] = {"runs": [], "judge": judge, "judges": [], "statistics": STATISTICS}
    for m in runs:
        runtimes = {rt.target_id: rt for rt in m.runtimes}
        out["runs"].append({
            "run_id": m.run_id,
            "status": m.status,
            "started_at": m.started_at.isoformat(timespec="seconds"),
            "ended_at": m.ended_at.isoformat(timespec="seconds") if m.ended_at else None,
            "tool_version": m.tool_version,
            "git_commit": m.git_commit,
            "python": m.python,
            "platform": m.platform,
            "bank": m.bank.model_dump(exclude={"schema_version"}),
            "languages": m.languages,
            "kinds": m.kinds,
            "samples": m.samples,
            "limit": m.limit,
            "items": m.items,
            "generation": m.generation.key_dict(),
            "system_prompt_sha": m.system_prompt_sha,
            "comparability": comparability_fingerprint(m),
            "imported_from": m.imported_from,
            "targets": [
                {
                    "id": t.id, "kind": t.kind, "provider": t.provider, "model": t.model, "base_url": t.base_url,
                    "revision": (runtimes[t.id].revision if t.id in runtimes and runtimes[t.id].revision
                                 else t.revision),
                    "server": runtimes[t.id].server if t.id in runtimes else None,
                    "chat_template_sha": runtimes[t.id].chat_template_sha if t.id in runtimes else None,
                }
                for t in m.targets
            ],
        })
    for j in judges:
        out["judges"].append({"judge": j, "counted": j == judge, "metrics": judge_metrics(j)})
    return out
