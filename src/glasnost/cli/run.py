"""glasnost run: audit targets on a bank, then judge and write the report (the main job)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Optional

import typer

from glasnost.cli.common import console, db_option, err_console, open_store, opt, split_csv, text
from glasnost.errors import ConfigError

DEFAULT_TARGET = "local:Qwen/Qwen2.5-0.5B-Instruct"
DEFAULT_LANGS = "en,zh-Hans"


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        target: Optional[list[str]] = opt(
            None, "--target", "-t",
            help=f"Target spec or targets YAML, repeatable (default {DEFAULT_TARGET}). "
            "E.g. openai:gpt-4o-mini, deepseek:deepseek-chat, ollama:qwen2.5:7b, "
            "openai-compat:http://127.0.0.1:8000/v1#my-model, local:PATH, replay:FILE#model.",
        ),
        bank: str = opt("quick", "--bank", "-b", help="Bank: quick, core, core:cn, core:mcq, or a YAML path."),
        lang: str = opt(DEFAULT_LANGS, "--lang", "-l", help="Comma-separated BCP-47 languages, or 'all'."),
        kinds: Optional[str] = opt(
            None, "--kinds",
            help="Only these kinds: knowledge,criticism,indirect,mcq,control, and prefill. mcq asks the "
            "multiple-choice checks (shuffled lettered options) and, for local targets, also scores each option's "
            "likelihood; prefill scores documented vs official-line continuations (local targets only). "
            "Default: all, e.g. --kinds knowledge,mcq,prefill for knows vs says.",
        ),
        samples: int = opt(1, "--samples", help="Samples per probe and target."),
        temperature: float = opt(0.0, "--temperature", help="Sampling temperature (0 = greedy).", min=0.0),
        top_p: Optional[float] = opt(None, "--top-p", help="Nucleus sampling (provider default if unset).",
                                     min=0.0, max=1.0),
        seed: int = opt(0, "--seed", help="Base seed; sample i uses seed + i."),
        max_tokens: int = opt(1024, "--max-tokens", help="Maximum completion tokens.", min=1),
        system: Optional[str] = opt(None, "--system", help="System prompt (default: none)."),
        limit: Optional[int] = opt(None, "--limit", help="Only the first N probes (same for every target)."),
        dry_run: bool = opt(False, "--dry-run", help="Show items in total and still to do, and a token estimate."),
        concurrency: int = opt(8, "--concurrency", "-c", help="Concurrent requests per endpoint.", min=1),
        timeout: float = opt(120.0, "--timeout", help="Seconds per request.", min=0.001),
        max_retries: int = opt(6, "--max-retries", help="Retries of 429/5xx/timeouts per request.", min=0),
        lease: float = opt(30.0, "--lease", help="Seconds an item claimed by this process stays its own after the "
                           "last renewal: how long a killed process delays its items for the others.", min=0.5),
        executor: str = opt("local", "--executor", help="Where the requests run: local (this process), or "
                            "ray[:ADDRESS] for workers on a Ray cluster that share the store (docs/scale.md)."),
        workers: int = opt(2, "--workers", help="Ray workers (with --executor ray); --concurrency is divided "
                           "among them.", min=1),
        judge: str = opt("default", "--judge", help="Judge after the run: default, llm:TARGET, panel:A,B, or none."),
        report: str = opt("report.html", "--report", help="Write the report here ('' to skip)."),
        db: Path = db_option(),
    ) -> None:
        """Audit targets on a bank. Running the same command again resumes: only missing keys are asked."""
        from glasnost.bank import load_bank
        from glasnost.records import GenerationConfig, TransportConfig
        from glasnost.run.audit import dry_run as plan_dry_run
        from glasnost.run.audit import prepare
        from glasnost.targets.spec import parse_targets

        specs = parse_targets(target or [DEFAULT_TARGET])
        from glasnost.bank.load import _looks_like_path

        if _looks_like_path(bank):  # the validator (and the judge it imports) is loaded only for a bank file
            from glasnost.bank.validate import require_valid

            require_valid(bank)  # the same validator as `bank validate`: a bank it rejects is never run
        the_bank = load_bank(bank)
        if not lang.strip():
            raise ConfigError("--lang is empty; give comma-separated languages (e.g. en,zh-Hans) or 'all'")
        languages = None if lang.strip().lower() == "all" else split_csv(lang)
        # What would fail after the audit fails before it: an unknown judge, a report nobody can write.
        the_judge = None
        if judge.strip().lower() != "none":
            from glasnost.judge import get_judge

            the_judge = get_judge(judge)
        if report.strip():
            _check_report_path(Path(report))
            from glasnost.outfile import check_out_path

            check_out_path(Path(report), protect=_inputs(db, bank))
        the_executor = _executor(executor, workers, db)
        generation = GenerationConfig(
            temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed
        )
        transport = TransportConfig(timeout_s=timeout, max_retries=max_retries, concurrency=concurrency,
                                    lease_s=lease)
        plan = prepare(the_bank, specs, languages, generation, transport, kinds=split_csv(kinds),
                       samples=samples, system_prompt=system, limit=limit)
        store = open_store(db, create=True, writable=not dry_run)
        try:
            for note in plan.notes:
                err_console.print(text(f"note: {note}"))
            if dry_run:
                d = plan_dry_run(store, plan)
                console.print(
                    f"run {d.run_id}: {d.total} items in total, {d.to_do} still to do; "
                    f"≈{d.prompt_tokens:,} prompt tokens, at most {d.max_completion_tokens:,} completion tokens"
                )
                if plan.scores:
                    from glasnost.knows.scores import pending_scores

                    console.print(f"run {d.run_id}: {len(plan.scores)} likelihood scores (local targets), "
                                  f"{len(pending_scores(store, plan.scores))} still to do")
                return
            header = (f"run {plan.run_id}: bank {the_bank.name} ({the_bank.fingerprint[:12]}), "
                      f"{len(plan.probes)} probes x {len(specs)} targets x {samples} samples = {len(plan.items)} items")
            check_before_write(store, db)
            import gc

            # What is loaded by now (modules, the bank, the plan, the judge) lives for the whole command: the
            # collector need not scan it again in each full collection (~30 ms of a 4,400-answer run), and a
            # forked judge worker's pages are not touched by it. Unfrozen when the command ends.
            gc.freeze()
            from glasnost.run.judge_along import JudgeAlong, worth_judging_along

            # The offline judge works while later requests are in flight (this process's requests; a Ray
            # executor's workers commit elsewhere); judge_run then finds its verdicts. A few items are
            # judged afterwards in this process: a worker would cost more than it saves.
            along = (JudgeAlong(store, the_judge, plan.bank.by_id)
                     if the_executor is None and worth_judging_along(the_judge, len(plan.items)) else None)
            try:
                # said once the targets are open: a model that cannot load gets its one error line, nothing else
                progress = _run_with_progress(store, plan, lambda p: console.print(text(header)), the_executor,
                                              on_commit=along.feed if along else None)
            except BaseException:
                if along:  # interrupted or failed: what was judged is written, the rest waits for the next run
                    along.finish(stop=True)
                raise
            judged_along = along.finish() if along else 0
            counts = ", ".join(f"{k} {v}" for k, v in sorted(progress.outcomes.items())) or "nothing new"
            others = f"; {progress.elsewhere} stored by another process meanwhile" if progress.elsewhere else ""
            console.print(f"run {plan.run_id}: {progress.done}/{progress.total} stored ({counts} this time{others})")
            if plan.scores:
                scored = ", ".join(f"{k} {v}" for k, v in sorted(progress.scores.items()) if v) or "nothing new"
                console.print(f"run {plan.run_id}: {len(plan.scores)} likelihood scores ({scored} this time)")
            if judge.strip().lower() != "none":
                from glasnost.judge import judge_run

                verdicts = judge_run(store, plan.run_id, spec=judge, judge=the_judge)
                again = f" ({verdicts['stale']} again: their responses changed)" if verdicts.get("stale") else ""
                during = min(judged_along, verdicts["skipped"])  # judged during the audit: new, not cached
                console.print(text(f"judge {verdicts['judge']}: newly judged {verdicts['judged'] + during}{again}, "
                                   f"cached {verdicts['skipped'] - during}"))
                if verdicts["judge_errors"]:
                    err_console.print(text(
                        f"{verdicts['judge_errors']} judge errors (not counted; `glasnost judge {plan.run_id}` "
                        f"retries them); the first: {verdicts.get('first_judge_error')}"))
            if report.strip():
                from glasnost.report import write_report

                path = write_report(store, [plan.run_id], Path(report), fmt=_fmt_of(Path(report)),
                                    protect=_inputs(db, bank))
                console.print(text(f"report: {path}"))
            errors_left = store.outcome_counts(plan.run_id).get("error", 0)
        finally:
            store.close()
            import gc

            gc.unfreeze()  # a process that goes on (a test, a notebook) collects them again
        if errors_left:
            from glasnost.errors import ErrorsLeft

            raise ErrorsLeft(f"run {plan.run_id}: {errors_left} of {len(plan.items)} requests still ended in error "
                             "after their retries (never counted); run the same command again to retry them")


def check_before_write(store, db: str | Path) -> None:
    """``run`` never writes into a damaged store: a quick check (pages, JSON of every row, manifests)."""
    from glasnost.errors import StoreError
    from glasnost.store import display

    db = display(db)
    damaged = store.damaged(full=False) if hasattr(store, "damaged") else []
    if damaged:
        raise StoreError(f"the store {db} fails its integrity check ({len(damaged)} damaged rows, e.g. "
                         f"{damaged[0].line()}); nothing was written: run `glasnost db check --db {db}`")


def _inputs(db: Path, bank: str) -> list[Path]:
    """What the run reads and a --report must never replace: the store (and its side files), bank files."""
    from glasnost.bank.load import bank_source_files
    from glasnost.outfile import store_files

    return [*store_files(db), *bank_source_files(bank)]


def _check_report_path(path: Path) -> None:
    if str(path) == "-":  # stdout carries the run's own lines; a report there would be mixed with them
        raise ConfigError("--report - is not supported (the run prints its progress there); write a file, or "
                          "run `glasnost report RUN --out -` afterwards")
    if path.is_dir():
        raise ConfigError(f"--report {path} is a folder; give a file path (or '' to skip the report)")
    if not path.parent.exists():
        raise ConfigError(f"--report: folder {path.parent} does not exist; create it or choose another path")


def _fmt_of(path: Path) -> str:
    return {".md": "md", ".json": "json"}.get(path.suffix.lower(), "html")


def _executor(value: str, workers: int, db):
    """None for the plain runner; a RayExecutor that workers use to open the same store."""
    from glasnost.run.ray_executor import RayExecutor, parse_executor
    from glasnost.store import is_url

    kind, address = parse_executor(value)
    if kind == "local":
        return None
    location = str(db) if is_url(db) else str(Path(db).resolve())  # workers may start in another folder
    return RayExecutor(db=location, workers=workers, address=address)


def _run_with_progress(store, plan, on_start, executor=None, on_commit=None):
    if not err_console.is_terminal:  # nobody watches a bar: rich's progress display is not even imported
        return _audit(store, plan, None, on_start, executor, on_commit)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[outcomes]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err_console, transient=False, refresh_per_second=4) as bar:
        task = bar.add_task("auditing", total=len(plan.items), outcomes="")

        def on_progress(p) -> None:
            outcomes = " ".join(f"{k}:{v}" for k, v in sorted(p.outcomes.items()))
            bar.update(task, completed=p.done, outcomes=outcomes)

        return _audit(store, plan, on_progress, on_start, executor, on_commit)


def _audit(store, plan, on_progress, on_start, executor, on_commit):
    from glasnost.run.audit import execute_plan
    from glasnost.run.loop import run_async

    async def main():
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        try:  # a polite kill (SIGTERM) ends like Ctrl-C: finished responses are committed first
            loop.add_signal_handler(signal.SIGTERM, current.cancel)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass
        return await execute_plan(store, plan, on_progress, on_start, executor=executor, on_commit=on_commit)

    try:
        return run_async(main(), requests=len(plan.items))
    except asyncio.CancelledError:
        raise KeyboardInterrupt from None
