"""Build src/glasnost/judge/data/zh_fold.json: a one-character traditional -> simplified map.

The judge folds Traditional Chinese onto Simplified before matching phrases, so one phrase list serves both
zh-Hans and zh-Hant, and the language detector tells the two scripts apart. The table comes from
hanziconv's character map (Apache-2.0, Copyright 2014 Bernard Yue; data from CUHK); we keep only
one-to-one pairs so that folding never changes a text's length (evidence offsets stay valid).

Run once when the table should change (needs the dev extra: pip install hanziconv).
"""

from __future__ import annotations

import json
from pathlib import Path

from hanziconv import charmap

OUT = Path(__file__).resolve().parents[1] / "src" / "glasnost" / "judge" / "data" / "zh_fold.json"


def main() -> None:
    simp, trad = charmap.simplified_charmap, charmap.traditional_charmap
    pairs: dict[str, str] = {}
    for s, t in zip(simp, trad):
        if s != t and len(s) == 1 and len(t) == 1 and t not in pairs:
            pairs[t] = s
    trad_chars = "".join(sorted(pairs))
    data = {
        "about": "traditional -> simplified, one character each; position i of 'traditional' folds to position i "
        "of 'simplified'",
        "source": "hanziconv 0.3.2 charmap (Apache-2.0, Copyright 2014 Bernard Yue)",
        "traditional": trad_chars,
        "simplified": "".join(pairs[c] for c in trad_chars),
    }
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(pairs)} pairs)")


if __name__ == "__main__":
    main()
