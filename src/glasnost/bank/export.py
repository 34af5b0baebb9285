"""Export a bank's probes as JSONL or CSV: one row per probe, each row carrying the bank's fingerprint.

The fingerprint in every row lets a probe list that travels on its own (to a spreadsheet, another tool) be
traced back to the exact bank it came from.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterable, Iterator, TextIO

from glasnost.bank.load import Bank

FORMATS = ("jsonl", "csv")
COLUMNS = ("concept_id", "jurisdiction", "topic", "kind", "sensitivity", "lang", "text", "bank", "bank_version",
           "bank_fingerprint")  # fmt: skip


def probe_rows(
    bank: Bank, languages: Iterable[str] | None = None, kinds: Iterable[str] | None = None
) -> Iterator[dict[str, Any]]:
    """One row per probe, in bank order (``Bank.probes`` decides which probes a language/kind filter keeps)."""
    sensitivity = {c.id: c.sensitivity for c in bank.concepts}
    for p in bank.probes(languages, kinds):
        yield {
            "concept_id": p.concept_id,
            "jurisdiction": p.jurisdiction,
            "topic": p.topic,
            "kind": p.kind,
            "sensitivity": sensitivity[p.concept_id],
            "lang": p.lang,
            "text": p.text,
            "bank": bank.name,
            "bank_version": bank.version,
            "bank_fingerprint": bank.fingerprint,
        }


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, out: TextIO) -> int:
    """Write rows in ``fmt`` (jsonl or csv) to ``out``; returns the number of rows written."""
    n = 0
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    elif fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            n += 1
    else:
        raise ValueError(f"unknown export format {fmt!r}")
    return n
