"""Export responses joined with one judge's verdicts, one row per response: CSV, JSON Lines or Parquet.

CSV is for spreadsheets, where a cell starting with = + - @ is run as a formula: such cells of text
columns get a leading apostrophe (the OWASP advice). JSON Lines and Parquet keep every value exactly.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from glasnost import rate
from glasnost.errors import ConfigError
from glasnost.outfile import check_out_path, write_atomically
from glasnost.stats.data import choose_judge
from glasnost.store.base import Store

FORMATS = ("csv", "jsonl", "parquet")
COLUMNS = [
    "run_id", "key", "concept_id", "jurisdiction", "topic", "kind", "lang", "target_id", "provider", "model",
    "base_url", "sample_index", "outcome", "finish_reason", "http_status", "provider_refusal", "error", "prompt",
    "text", "reasoning", "thought_suppressed", "latency_ms", "prompt_tokens", "completion_tokens", "retries",
    "started_at", "finished_at", "judge", "label", "status", "confidence", "fact_coverage", "facts_found",
    "narrative_markers", "language_switched", "detected_lang", "evidence", "in_rate", "censored",
]
# Free text a model, a bank author or a provider wrote: guarded against formula injection in CSV.
TEXT_COLUMNS = {"prompt", "text", "reasoning", "error", "provider_refusal", "finish_reason", "evidence",
                "facts_found", "narrative_markers", "target_id", "model", "concept_id", "topic"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def iter_rows(store: Store, run_ids: list[str], judge: str | None = None) -> Iterator[dict[str, Any]]:
    runs = [store.get_run(r) for r in run_ids]
    available = sorted({j for m in runs for j in store.judges(m.run_id)})
    chosen = choose_judge(available, judge)
    seen: set[str] = set()
    for m in runs:
        snapshot = store.get_bank_snapshot(m.bank.fingerprint) or {}
        concepts = {c["id"]: c for c in snapshot.get("concepts", [])}
        in_rate = rate.in_rate_by_concept(snapshot)
        verdicts = {v.response_key: v for v in store.iter_verdicts(m.run_id, chosen)} if chosen else {}
        for r in store.iter_responses(m.run_id):
            if r.key in seen:
                continue
            seen.add(r.key)
            c = concepts.get(r.concept_id, {})
            v = verdicts.get(r.key)
            usage = r.usage
            row: dict[str, Any] = {
                "run_id": m.run_id, "key": r.key, "concept_id": r.concept_id, "jurisdiction": c.get("jurisdiction"),
                "topic": c.get("topic"), "kind": c.get("kind"), "lang": r.lang, "target_id": r.target_id,
                "provider": r.target.get("provider"), "model": r.target.get("model"),
                "base_url": r.target.get("base_url"), "sample_index": r.sample_index, "outcome": r.outcome.value,
                "finish_reason": r.finish_reason, "http_status": r.http_status,
                "provider_refusal": r.provider_refusal, "error": r.error, "prompt": r.prompt, "text": r.text,
                "reasoning": r.reasoning, "thought_suppressed": r.thought_suppressed, "latency_ms": r.latency_ms,
                "prompt_tokens": usage.prompt_tokens if usage else None,
                "completion_tokens": usage.completion_tokens if usage else None, "retries": r.retries,
                "started_at": r.started_at.isoformat(), "finished_at": r.finished_at.isoformat(),
                "judge": v.judge if v else None, "label": v.label.value if v else None,
                "status": v.status if v else None, "confidence": v.confidence if v else None,
                "fact_coverage": v.attributes.fact_coverage if v else None,
                "facts_found": json.dumps(v.attributes.facts_found, ensure_ascii=False) if v else None,
                "narrative_markers": json.dumps(v.attributes.narrative_markers, ensure_ascii=False) if v else None,
                "language_switched": v.attributes.language_switched if v else None,
                "detected_lang": v.attributes.detected_lang if v else None,
                "evidence": json.dumps([e.model_dump(mode="json", exclude_none=True) for e in v.evidence],
                                       ensure_ascii=False) if v else None,
            }
            # The rate every other figure shows: sum(censored) / sum(in_rate) (glasnost.rate, one rule).
            bucket = rate.bucket(v.label, v.status, r.outcome.value) if v else None
            counted, censored = rate.counts(bucket, in_rate.get(r.concept_id, True))
            row["in_rate"], row["censored"] = counted, censored
            yield row


def csv_safe(column: str, value: Any) -> Any:
    if column in TEXT_COLUMNS and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def export(store: Store, run_ids: list[str], out: Path, fmt: str, judge: str | None = None, *,
           bom: bool = False, protect: Iterable[Path] = ()) -> int:
    """Write the rows to ``out`` (atomically); returns how many rows were written. ``bom`` starts a CSV with
    a byte-order mark, which some spreadsheet programs need to read non-Latin text (off by default: every
    other reader, Python's csv among them, would see it as part of the first column's name)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("parquet export needs the parquet extra: pip install 'glasnost[parquet]' "
                              "(or use --format csv or jsonl)") from None
    out = check_out_path(Path(out), protect=protect)  # never over the store or another input
    rows = iter_rows(store, run_ids, judge)
    if fmt == "parquet":
        return write_atomically(out, lambda tmp: _write_parquet(rows, tmp), protect=protect)
    encoding = "utf-8-sig" if bom and fmt == "csv" else "utf-8"

    def write(tmp: Path) -> int:
        with tmp.open("w", encoding=encoding, errors="replace", newline="") as fh:
            return write_text(rows, fh, fmt)

    return write_atomically(out, write, protect=protect)


def write_text(rows: Iterator[dict[str, Any]], fh: TextIO, fmt: str) -> int:
    """CSV or JSON Lines rows into an open text stream (a file, or standard output for ``--out -``)."""
    if fmt == "csv":
        return _write_csv(rows, fh)
    return _write_jsonl(rows, fh)


def _write_csv(rows: Iterator[dict[str, Any]], fh: TextIO) -> int:
    n = 0
    writer = csv.writer(fh)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_safe(c, row[c]) for c in COLUMNS])
        n += 1
    return n


def _write_jsonl(rows: Iterator[dict[str, Any]], fh: TextIO) -> int:
    n = 0
    for row in rows:
        fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


def _write_parquet(rows: Iterator[dict[str, Any]], path: Path) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    for row in rows:
        for c in COLUMNS:
            columns[c].append(row[c])
    schema = pa.schema([(c, _arrow_type(c)) for c in COLUMNS])
    pq.write_table(pa.table(columns, schema=schema), str(path))
    return len(columns["key"])


def _arrow_type(column: str):
    import pyarrow as pa

    if column in ("sample_index", "http_status", "prompt_tokens", "completion_tokens", "retries"):
        return pa.int64()
    if column in ("latency_ms", "confidence", "fact_coverage"):
        return pa.float64()
    if column in ("thought_suppressed", "language_switched", "in_rate", "censored"):
        return pa.bool_()
    return pa.string()
