"""SQL that both store engines run, written once: only the parameter mark (``?`` for SQLite, ``%s`` for
psycopg) and the row-order column (``rowid`` / ``rid``) differ.

Verdict freshness lives here: a verdict is current only while the digest it carries is its response's digest
(``CURRENT``); every reader of verdicts joins on it, so no caller can use a stale verdict by mistake."""

from __future__ import annotations

from typing import Any, Iterable

from pydantic import ValidationError

from glasnost.records import Response, response_digest, verdict_provably_judged

CURRENT = "JOIN responses r ON r.key = v.response_key AND r.digest = v.response_digest"


def verdicts_query(run_id: str | None, judge: str | None, mark: str, row_order: str) -> tuple[str, list[Any]]:
    """(sql, args) of the current verdicts of a run's plan (in plan order) or of every run, by one judge or all."""
    sql = f"SELECT v.data, v.response_key, v.response_digest FROM verdicts v {CURRENT}"
    args: list[Any] = []
    where = []
    if run_id is not None:
        sql += " JOIN run_items i ON i.key = v.response_key"
        where.append(f"i.run_id = {mark}")
        args.append(run_id)
    if judge is not None:
        where.append(f"v.judge = {mark}")
        args.append(judge)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY i.position" if run_id is not None else f" ORDER BY v.{row_order}"
    return sql, args


def stale_verdicts_query(run_id: str, judge: str | None, mark: str) -> tuple[str, list[Any]]:
    """(sql, args) counting a run's verdicts whose response changed since (or that carry no digest)."""
    sql = ("SELECT COUNT(*) FROM verdicts v JOIN run_items i ON i.key = v.response_key "
           "JOIN responses r ON r.key = v.response_key "
           f"WHERE i.run_id = {mark} AND (v.response_digest IS NULL OR v.response_digest != r.digest)")
    args: list[Any] = [run_id]
    if judge is not None:
        sql += f" AND v.judge = {mark}"
        args.append(judge)
    return sql, args


def digest_backfill(responses: Iterable[tuple[str, str]], verdicts: Iterable[tuple[Any, str, str, str]]
                    ) -> tuple[list[tuple[str, str]], list[tuple[str, Any]]]:
    """Migration 5 of both engines, for stores written before verdicts carried digests: (response updates
    ``(digest, key)``, verdict updates ``(digest, row id)``) from ``(key, data)`` response rows and
    ``(row id, response key, label, status)`` verdict rows.

    A verdict is given its response's current digest only where it provably judged that content
    (records.verdict_provably_judged); every other old verdict keeps none: it is stale, never used, and
    ``glasnost judge`` judges it again. A response row that does not decode keeps no digest either
    (``glasnost db check`` names it)."""
    digests: dict[str, tuple[str, str]] = {}
    for key, data in responses:
        try:
            r = Response.model_validate_json(data)
        except (ValidationError, ValueError):
            continue
        digests[key] = (response_digest(r), r.outcome.value)
    proven = [(digests[key][0], row) for row, key, label, status in verdicts
              if key in digests and verdict_provably_judged(label, status, digests[key][1])]
    return [(d, k) for k, (d, _) in digests.items()], proven
