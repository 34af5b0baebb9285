"""The learned layer against a baseline revision: same probabilities, time per answer (a benchmark, not a test).

    python benchmarks/learned_speed.py [CORPUS.jsonl.gz] [--baseline REV] [--repeat K] [--limit N]

Reads the corpus (default: ../shared/data/corpora/speechmap-dev.jsonl.gz) as the judge sees it (reasoning
split off, folded), loads ``judge/features.py`` and ``judge/learned.py`` as they were at git revision REV
(default: the commit before the one-sort featurizer of issue 12) beside the working tree's, and

1. checks identity on every row: the features (index, value pairs) must be equal, and ``proba`` of the
   shipped model within 1e-6 (exit status 1 otherwise);
2. times ``featurize`` and ``proba`` of both, interleaved pass by pass on one core, and prints the best pass
   of each in microseconds per answer (wall and CPU time) and the baseline's time as a ratio to the new one,
   since this machine is shared and only figures from the same run compare.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "2a1cbc4"  # main before issue 12's learned-layer speed work
TOLERANCE = 1e-6


def _baseline_modules(rev: str) -> tuple[types.ModuleType, types.ModuleType]:
    """The baseline's features and learned modules, imported under private names (the learned module is
    pointed at the baseline features)."""
    mods = []
    for name, path, swap in (("_baseline_features", "src/glasnost/judge/features.py", None),
                             ("_baseline_learned", "src/glasnost/judge/learned.py",
                              ("from glasnost.judge.features import", "from _baseline_features import"))):
        try:
            src = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, check=True, capture_output=True,
                                 text=True).stdout
        except (OSError, subprocess.CalledProcessError) as exc:
            raise SystemExit(f"learned_speed: cannot read {path} at revision {rev} ({exc}); pass --baseline REV "
                             "with a revision this checkout has")
        if swap:
            src = src.replace(*swap)
        module = types.ModuleType(name)
        sys.modules[name] = module
        exec(compile(src, f"{rev}:{path}", "exec"), module.__dict__)
        mods.append(module)
    return mods[0], mods[1]


def _folded_answers(corpus: Path, limit: int) -> list[str]:
    from glasnost.judge.corpus import item_from_row, iter_rows
    from glasnost.judge.text import fold, split_think

    out = []
    for _, row in iter_rows(corpus):
        out.append(fold(split_think(item_from_row(row).text or "").text).text)
        if limit and len(out) >= limit:
            break
    return out


def _pairs(features: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, float]]:
    return sorted(zip(features[0].tolist(), features[1].tolist()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", type=Path,
                    default=ROOT.parent / "shared" / "data" / "corpora" / "speechmap-dev.jsonl.gz")
    ap.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    ap.add_argument("--repeat", type=int, default=5, help="timed passes of each function")
    ap.add_argument("--limit", type=int, default=0)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from glasnost.judge import features, learned

    from glasnost.errors import ConfigError

    old_features, old_learned = _baseline_modules(args.baseline)
    try:
        texts = _folded_answers(args.corpus, args.limit)
    except ConfigError as exc:
        raise SystemExit(f"learned_speed: {exc}") from None
    new_model = learned.load_model()
    old_model = old_learned.load_model()
    cfg = new_model.cfg
    old_cfg = old_features.FeatureConfig.from_dict(cfg.to_dict())

    feature_mismatches = 0
    worst = 0.0
    for text in texts:
        if _pairs(features.featurize(text, cfg)) != _pairs(old_features.featurize(text, old_cfg)):
            feature_mismatches += 1
        worst = max(worst, float(np.max(np.abs(new_model.proba("", text) - old_model.proba("", text)))))
    ok = feature_mismatches == 0 and worst <= TOLERANCE
    print(f"identity on {len(texts)} answers of {args.corpus.name} (baseline {args.baseline}): "
          f"{feature_mismatches} feature mismatches, max |proba new - proba baseline| = {worst:.3g} "
          f"(tolerance {TOLERANCE:g}): {'OK' if ok else 'FAILED'}")

    runs = {
        "featurize baseline": lambda t: old_features.featurize(t, old_cfg),
        "featurize new": lambda t: features.featurize(t, cfg),
        "proba baseline": lambda t: old_model.proba("", t),
        "proba new": lambda t: new_model.proba("", t),
    }
    best = {name: (float("inf"), float("inf")) for name in runs}
    for _ in range(args.repeat):
        for name, fn in runs.items():  # interleaved, so that a busy spell hits every function alike
            w0, c0 = time.perf_counter(), time.process_time()
            for text in texts:
                fn(text)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    us = {name: (w / len(texts) * 1e6, c / len(texts) * 1e6) for name, (w, c) in best.items()}
    mean = sum(map(len, texts)) / max(len(texts), 1)
    print(f"best of {args.repeat} passes over {len(texts)} answers (mean {mean:,.0f} folded characters), one core:")
    for name, (w, c) in us.items():
        print(f"  {name:20s} {w:7.1f} us/answer wall  {c:7.1f} us/answer CPU")
    for what in ("featurize", "proba"):
        old, new = us[f"{what} baseline"], us[f"{what} new"]
        print(f"  {what}: baseline / new = {old[0] / new[0]:.2f}x wall, {old[1] / new[1]:.2f}x CPU")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
