"""glasnost show: one run's manifest and its counts per target, language and outcome (or label)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Optional

import typer
from glasnost.cli.common import console, db_option, emit_rows, open_store, opt, text


def register(app: typer.Typer) -> None:
    @app.command("show")
    def show(
        run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
        as_json: bool = opt(False, "--json", help="Print the manifest as JSON."),
        judge: Optional[str] = opt(None, "--judge", help="Judge id whose labels to count (default: first)."),
        db: Path = db_option(),
    ) -> None:
        """Show a run: its manifest and counts per target x language x outcome and label."""
        store = open_store(db)
        try:
            m = store.get_run(run_id)
            if as_json:
                print(json.dumps(m.model_dump(mode="json"), ensure_ascii=False, indent=2))
                return
            judges = store.judges(m.run_id)
            if judge and judge not in judges:
                from glasnost.errors import ConfigError

                raise ConfigError(f"no verdicts from judge {judge!r} on run {m.run_id}; judges present: "
                                  f"{', '.join(judges) or 'none (run `glasnost judge RUN` first)'}")
            chosen = judge or (judges[0] if judges else None)
            labels = {v.response_key: v for v in store.iter_verdicts(m.run_id, chosen)} if chosen else {}
            counts: Counter = Counter()
            for r in store.iter_responses(m.run_id):
                v = labels.get(r.key)
                shown = (v.label.value if v.status == "ok" else "judge_error") if v else f"({r.outcome.value})"
                counts[(r.target_id, r.lang, shown)] += 1
        finally:
            store.close()
        # Every line goes out as Text: run ids, names, revisions and provider messages are not markup.
        console.print(text(f"run {m.run_id} [{m.status}] {m.started_at:%Y-%m-%d %H:%M} UTC"
                           f" → {m.ended_at:%H:%M} UTC" if m.ended_at else f"run {m.run_id} [{m.status}]"))
        console.print(text(f"bank {m.bank.name}@{m.bank.version} fingerprint {m.bank.fingerprint}"))
        console.print(text(f"generation {m.generation.model_dump(exclude={'schema_version'})}"))
        if m.system_prompt_sha:
            console.print(f"system prompt sha256 {m.system_prompt_sha}")
        for rt in m.runtimes:
            extra = f" chat-template {rt.chat_template_sha[:12]}" if rt.chat_template_sha else ""
            console.print(text(f"target {rt.target_id} revision {rt.revision or '?'}{extra}"))
        if m.message:
            console.print(text(f"note: {m.message}"))
        emit_rows(["target", "lang", "label (or outcome, unjudged)", "n"],
                  [[t, lang, label, n] for (t, lang, label), n in sorted(counts.items())])
        stored = sum(counts.values())
        if chosen:
            console.print(text(f"labels from judge {chosen}"))
        elif m.status == "failed" and not stored:
            console.print(text("this run failed before any answer was stored; fix what the note says and run the "
                               "same `glasnost run` command again"))
        elif stored:
            console.print(text(f"not judged yet: run `glasnost judge {m.run_id}`"))
        else:
            console.print("no answers stored yet: run the same `glasnost run` command again to go on")
