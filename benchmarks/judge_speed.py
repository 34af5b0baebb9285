"""Throughput of the offline judge on one core (a benchmark, not a test).

    python benchmarks/judge_speed.py [CORPUS.jsonl.gz] [--limit N] [--repeat K]

Reads transcripts in the corpus schema (default: ../shared/data/corpora/speechmap-dev.jsonl.gz), judges them
with the default offline judge in one process and prints responses per second. The target is >= 5,000/s
(issue 12), first pass included. Because this machine is shared, each pass is also given as a ratio to a bound
measured in the same run: a reference pass that only folds every answer (judge/text.fold, the least any judge
must do: read every character once), so that figures from busy and idle machines can be compared, and per CPU-second of this process (time spent
waiting for the core while other processes run is not counted).
Reading and parsing the file is not timed; building each Verdict is. The first pass is reported apart: it also
compiles the rule patterns for each combination of languages it meets, a one-time cost per process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", type=Path,
                    default=ROOT.parent / "shared" / "data" / "corpora" / "speechmap-dev.jsonl.gz")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="timed passes after the first one")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from glasnost.judge import OfflineJudge
    from glasnost.judge.corpus import item_from_row, iter_rows

    from glasnost.errors import GlasnostError

    try:
        items = [item_from_row(row) for _, row in iter_rows(args.corpus)]
    except GlasnostError as exc:  # a missing or damaged corpus is one line, not a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        items = items[: args.limit]
    judge = OfflineJudge()
    judge.judge_item(items[0])  # load the data files and the learned model
    chars = sum(len(i.text or "") for i in items)
    # The first pass also compiles the rule patterns, once per combination of languages met (asked,
    # detected, English): a one-time cost per process. Later passes are the steady state.
    from glasnost.judge.text import fold

    texts = [i.text or "" for i in items]
    for k in range(1 + args.repeat):
        t0 = time.perf_counter()
        for text in texts:
            fold(text)
        ref = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        for item in items:
            judge.judge_item(item)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        what = "first pass (compiles patterns)" if k == 0 else f"pass {k + 1}"
        print(f"{what}: {len(items)} responses in {dt:.2f}s: {len(items) / dt:,.0f} responses/s on one core "
              f"(mean {chars / len(items):,.0f} characters per response; judge {judge.id}); "
              f"{dt / ref:.1f}x the time of only folding every answer ({len(items) / ref:,.0f}/s); "
              f"{len(items) / cpu:,.0f} per CPU-second (the figure a busy machine disturbs least)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
