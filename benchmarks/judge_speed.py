"""Throughput of the offline judge on one core (a benchmark, not a test).

    python benchmarks/judge_speed.py [CORPUS.jsonl.gz] [--limit N]

Reads transcripts in the corpus schema (default: ../shared/data/corpora/speechmap-dev.jsonl.gz), judges them
with the default offline judge in one process and prints responses per second. The target is >= 2,000/s.
Reading and parsing the file is not timed, nor is a warm-up on the first ``--warmup`` responses (loading the
data files and compiling the patterns, a one-time cost per process); building each Verdict is.
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
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=200, help="responses judged before the timing starts")
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    from glasnost.judge import OfflineJudge
    from glasnost.judge.corpus import item_from_row, iter_rows

    items = [item_from_row(row) for _, row in iter_rows(args.corpus)]
    if args.limit:
        items = items[: args.limit]
    judge = OfflineJudge()
    # Load the data files and compile the patterns outside the timing: a judge compiles one regex per
    # combination of languages it meets, once per process (reported separately below).
    t0 = time.perf_counter()
    for item in items[: args.warmup]:
        judge.judge_item(item)
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = 0
    for _ in range(args.repeat):
        for item in items:
            judge.judge_item(item)
            n += 1
    dt = time.perf_counter() - t0
    chars = sum(len(i.text or "") for i in items) * args.repeat
    print(f"{n} responses in {dt:.2f}s: {n / dt:,.0f} responses/s on one core "
          f"(mean {chars / n:,.0f} characters per response; judge {judge.id}); warm-up: "
          f"{min(args.warmup, len(items))} responses in {warm:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
