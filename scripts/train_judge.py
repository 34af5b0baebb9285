"""Rebuild the learned layer of the judge (src/glasnost/judge/data/learned.{npz,json}) from the corpora.

    python scripts/train_judge.py [--corpora ../shared/data/corpora] [--out src/glasnost/judge/data]
        [--extra tests/data/judge_*.jsonl ...] [--calibrate]

Deterministic (fixed seed, full-batch L-BFGS from zero); needs the dev extra (scipy). Takes about a minute on
one core. ``--extra`` adds labelled files (the hand-written sets) to the training data. ``--calibrate`` also
cross-validates (grouped by model, every source) and writes ``calibration.json``: the confidence table fitted
on those held-out predictions (judge/calibration.py); several minutes. The cross-validated figures in DATA_CARD.md come from
``glasnost judge-eval CORPUS... --group-by model``, which retrains per fold with the same code.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from glasnost.errors import GlasnostError
    from glasnost.judge.train import build_artifact

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "data" / "corpora")
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "glasnost" / "judge" / "data")
    ap.add_argument("--extra", type=Path, nargs="*", default=[])
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--calibrate-with", type=Path, nargs="*", default=[],
                    help="labelled files (never training rows: the hand-written sets) whose predictions by the judge "
                         "with the new model join the cross-validated rows of the calibration")
    args = ap.parse_args(argv)
    log = lambda m: print(m, file=sys.stderr)  # noqa: E731
    try:
        meta = build_artifact(args.corpora, args.out, log=log, extra=args.extra)
        if args.calibrate:
            calibrate(args.corpora, args.out, args.extra, log, args.calibrate_with)
    except GlasnostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"train_metrics": meta["train_metrics"], "top_features": meta["top_features"]},
                     ensure_ascii=False, indent=1))
    return 0


def calibrate(corpora: Path, out: Path, extra: list[Path], log, also: list[Path] = ()) -> None:
    from glasnost.judge import OfflineJudge
    from glasnost.judge.calibration import fit
    from glasnost.judge.evaluate import GOLD_THREE, cross_validate, predict_files
    from glasnost.judge.learned import load_model
    from glasnost.judge.train import corpus_paths

    rows = cross_validate(corpus_paths(corpora) + list(extra), consensus_only=True, progress=log)
    if also:  # out of sample for the learned layer by construction (not in its training data)
        rows += predict_files(list(also), OfflineJudge(model=load_model(out)))
    sel = [r for r in rows if r.gold in GOLD_THREE and r.signals]
    table = fit(((r.signals.get("calibration_path") or r.signals["decided_by"], r.signals.get("raw_score"), GOLD_THREE[r.gold] == r.pred) for r in sel),
                version=str(load_model(out).version))
    (out / "calibration.json").write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    log(f"calibration fitted on {len(sel)} cross-validated rows, {len(table['paths'])} decision paths")


if __name__ == "__main__":
    sys.exit(main())
