"""Split the offline judge's verdicts on hand-written sets by the rows' ``state`` (and language).

    PYTHONPATH=src python scripts/official_voice_by_state.py tests/data/judge_official_line_fresh.jsonl \
        tests/data/judge_candid_reporting_fresh.jsonl [--json]

For each file: per state, the rows whose predicted label equals the gold label (``state_narrative`` recall on an
official-line set, ``answered`` recall on a candid one), the other labels given, and the same per language. No
concept is attached (what ``glasnost judge-eval`` sees). DATA_CARD.md quotes its output."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from glasnost.judge import OfflineJudge
from glasnost.judge.corpus import iter_rows
from glasnost.judge.evaluate import predict_files


def split(path: Path, judge: OfflineJudge) -> dict:
    meta = {str(row["id"]): row for _, row in iter_rows(path)}
    by: dict[str, dict[str, Counter]] = {"state": defaultdict(Counter), "lang": defaultdict(Counter)}
    misses = []
    for er in predict_files([path], judge):
        row = meta[er.id]
        for key, value in (("state", str(row.get("state") or "?")), ("lang", er.lang)):
            by[key][value][er.label] += 1
            by[key]["ALL"][er.label] += 1 if key == "state" else 0
        if er.label != er.gold_label:
            misses.append([er.id, er.label])
    gold = {str(row.get("label")) for row in meta.values()}
    return {"gold": sorted(gold), "misses": misses,
            **{f"by_{k}": {name: dict(c) for name, c in sorted(v.items()) if sum(c.values())} for k, v in by.items()}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    judge = OfflineJudge()
    out = {"judge": judge.id, **{p.name: split(p, judge) for p in args.paths}}
    if args.json:
        json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    print(out["judge"])
    for p in args.paths:
        res = out[p.name]
        (gold,) = res["gold"] if len(res["gold"]) == 1 else ("?",)
        print(f"{p.name} (gold {gold})")
        for key in ("by_state", "by_lang"):
            for name, c in res[key].items():
                n = sum(c.values())
                print(f"  {name:8} {c.get(gold, 0):3}/{n:<3} {c.get(gold, 0) / n:.3f}  {dict(c)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
