"""glasnost runs: the runs in a store, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from glasnost.cli.common import db_option, emit_rows, open_store, opt


def register(app: typer.Typer) -> None:
    @app.command("runs")
    def runs(
        as_json: bool = opt(False, "--json", help="Print a JSON list of runs (each with its 'id') for scripts."),
        db: Path = db_option(),
    ) -> None:
        """List the runs in the store."""
        store = open_store(db)
        try:
            rows = []
            for m in store.list_runs():
                counts = store.outcome_counts(m.run_id)
                rows.append(
                    {
                        "id": m.run_id,
                        "status": m.status,
                        "started_at": m.started_at.isoformat(),
                        "ended_at": m.ended_at.isoformat() if m.ended_at else None,
                        "bank": f"{m.bank.name}@{m.bank.version}",
                        "bank_fingerprint": m.bank.fingerprint,
                        "targets": [t.id for t in m.targets],
                        "languages": m.languages,
                        "items": m.items,
                        "stored": sum(counts.values()),
                        "outcomes": counts,
                        "judges": store.judges(m.run_id),
                        "imported_from": m.imported_from,
                    }
                )
        finally:
            store.close()
        if as_json:
            print(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            print("no runs yet; start one with `glasnost run`")
            return
        emit_rows(
            ["id", "status", "started (UTC)", "bank", "targets", "langs", "stored/items", "judges"],
            [[r["id"], r["status"], r["started_at"][:19], r["bank"], " ".join(r["targets"]),
              ",".join(r["languages"]), f"{r['stored']}/{r['items']}", ", ".join(r["judges"]) or "-"]
             for r in rows],
        )
