"""Rebuild the learned layer of the judge (src/glasnost/judge/data/learned.{npz,json}) from the corpora.

    python scripts/train_judge.py [--corpora ../shared/data/corpora] [--out src/glasnost/judge/data]

Deterministic (fixed seed, full-batch L-BFGS from zero); needs the dev extra (scipy). Takes about a minute on
one core. The cross-validated figures in DATA_CARD.md come from
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
    args = ap.parse_args(argv)
    try:
        meta = build_artifact(args.corpora, args.out, log=lambda m: print(m, file=sys.stderr))
    except GlasnostError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps({"train_metrics": meta["train_metrics"], "top_features": meta["top_features"]},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
