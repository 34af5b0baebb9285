"""Prepare and carry out an audit run: bank x targets x languages x samples under one generation config."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from glasnost.bank.load import Bank, resolve_languages
from glasnost.errors import ConfigError, GlasnostError
from glasnost.knows.kinds import select_kinds
from glasnost.knows.mcq import probe_renderer
from glasnost.knows.scores import ScoreItem, execute_scores, pending_scores, plan_scores
from glasnost.records import GenerationConfig, Probe, RunManifest, TargetSpec, TransportConfig, utcnow
from glasnost.run.execute import RunProgress, Runner, close_targets, pending_items, start_targets
from glasnost.run.manifest import environment
from glasnost.run.plan import (
    WorkItem,
    estimate_prompt_tokens,
    plan_items,
    run_id_for,
    select_probes,
    system_prompt_sha,
)
from glasnost.store.base import Store


@dataclass
class AuditPlan:
    manifest: RunManifest
    bank: Bank
    probes: list[Probe]
    items: list[WorkItem]
    scores: list[ScoreItem] = field(default_factory=list)  # white-box probes of local targets (knows vs says)
    notes: list[str] = field(default_factory=list)  # one line each: what was skipped and why

    @property
    def run_id(self) -> str:
        return self.manifest.run_id


@dataclass
class DryRun:
    run_id: str
    total: int
    to_do: int
    prompt_tokens: int
    max_completion_tokens: int


def prepare(
    bank: Bank,
    targets: list[TargetSpec],
    languages: list[str] | None,
    generation: GenerationConfig,
    transport: TransportConfig,
    kinds: list[str] | None = None,
    samples: int = 1,
    system_prompt: str | None = None,
    limit: int | None = None,
) -> AuditPlan:
    if not targets:
        raise ConfigError("no target given; pass --target SPEC (e.g. --target ollama:qwen2.5:7b)")
    ids = [t.id for t in targets]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ConfigError(f"target {', '.join(sorted(dupes))} is given twice; give each target once (or a --name)")
    if samples < 1:
        raise ConfigError("--samples must be at least 1")
    if limit is not None and limit < 1:
        raise ConfigError("--limit must be at least 1")
    if languages:  # the bank's spelling (EN -> en): the run id and the manifest do not depend on case
        languages = resolve_languages(languages, bank.languages, bank.name)
    selection = select_kinds(kinds)  # bank kinds in chat, plus white-box probes (see glasnost.knows.kinds)
    probes = select_probes(bank, languages, selection.chat, limit) if selection.chat != [] else []
    scores, notes = plan_scores(bank, targets, languages, selection, system_prompt, limit)
    if not probes and not scores:
        if notes:
            raise ConfigError(f"nothing to run: {notes[0]}")
        raise ConfigError(f"bank {bank.name!r} has no probes for languages {languages} and kinds {kinds}")
    items = plan_items(probes, targets, generation, system_prompt, samples,
                       render=probe_renderer(bank.by_id, generation.seed))
    run_id = run_id_for(bank.fingerprint, targets, languages, kinds, samples, generation, system_prompt, limit)
    env = environment()
    manifest = RunManifest(
        run_id=run_id,
        tool_version=str(env["tool_version"]),
        git_commit=env["git_commit"],  # type: ignore[arg-type]
        python=str(env["python"]),
        platform=str(env["platform"]),
        packages=env["packages"],  # type: ignore[arg-type]
        bank=bank.ref(),
        languages=languages or bank.languages,
        kinds=kinds,
        samples=samples,
        limit=limit,
        targets=targets,
        generation=generation,
        transport=transport,
        system_prompt=system_prompt,
        system_prompt_sha=system_prompt_sha(system_prompt),
        seed=generation.seed,
        items=len(items),
    )
    return AuditPlan(manifest=manifest, bank=bank, probes=probes, items=items, scores=scores, notes=notes)


def dry_run(store: Store, plan: AuditPlan) -> DryRun:
    todo = pending_items(store, plan.items)
    per_probe: dict[str, int] = {}  # mcq items have one text per sample, so estimate per item text
    for i in todo:
        if i.probe.text not in per_probe:
            per_probe[i.probe.text] = estimate_prompt_tokens(i.probe.text)
    return DryRun(
        run_id=plan.run_id,
        total=len(plan.items),
        to_do=len(todo),
        prompt_tokens=sum(per_probe[i.probe.text] for i in todo),
        max_completion_tokens=len(todo) * plan.manifest.generation.max_tokens,
    )


def _merge_previous(store: Store, manifest: RunManifest) -> RunManifest:
    """Resuming keeps the first start time; everything else describes this invocation."""
    try:
        previous = store.get_run(manifest.run_id)
    except Exception:
        return manifest
    if previous.run_id != manifest.run_id:
        return manifest
    return manifest.model_copy(update={"started_at": previous.started_at})


async def execute_plan(store: Store, plan: AuditPlan, on_progress=None, on_start=None, executor=None,
                       on_commit=None) -> RunProgress:
    """Run what the store lacks. The manifest is saved before the first request and after the last.
    ``on_start(progress)`` is called once the targets are open (a model that cannot load never gets there).
    ``executor`` (e.g. run.ray_executor.RayExecutor) carries out the items elsewhere; None: in this process.
    ``on_commit(batch)`` with each batch of responses this process commits (judging along, run/judge_along.py)."""
    manifest = _merge_previous(store, plan.manifest)
    manifest.status = "running"
    manifest.ended_at = None
    manifest.message = None
    store.save_bank_snapshot(plan.bank.snapshot())
    store.save_run(manifest)  # one row per run id: a failed start is the same run, never a new row
    store.set_alive(manifest.run_id, manifest.transport.lease_s)  # renewed by the runner while it works
    store.add_run_items(manifest.run_id, (item.key for item in plan.items))
    todo = pending_items(store, plan.items)
    if plan.scores:
        store.add_score_items(manifest.run_id, (s.key for s in plan.scores))
    scores_todo = pending_scores(store, plan.scores) if plan.scores else []
    progress = RunProgress(total=len(plan.items), already=len(plan.items) - len(todo))
    targets = {}
    try:
        needed = {item.target.id for item in todo} | {s.target.id for s in scores_todo}
        specs = [t for t in manifest.targets if t.id in needed]
        if executor is None:
            targets, runtimes = await start_targets(specs, manifest.transport)
            if on_start is not None:
                on_start(progress)
            _keep_runtimes(manifest, runtimes)
            runner = Runner(store, manifest.run_id, manifest.generation, manifest.transport, manifest.system_prompt,
                            on_progress, on_commit=on_commit)
            progress = await runner.execute(todo, targets, total=len(plan.items))
        else:
            progress, targets, runtimes = await executor.execute(store, manifest, specs, todo, len(plan.items),
                                                                 on_progress, on_start)
            _keep_runtimes(manifest, runtimes)
        if scores_todo:
            progress.scores.update(await execute_scores(store, manifest.run_id, scores_todo, targets))
        errors = store.outcome_counts(manifest.run_id).get("error", 0)
        manifest.status = "complete"
        manifest.message = f"{errors} requests ended in error; run again to retry them" if errors else None
        if progress.scores.get("error"):
            manifest.message = "; ".join(filter(None, [
                manifest.message, f"{progress.scores['error']} likelihood scores failed; run again to retry them"]))
    except GlasnostError as exc:  # a target that cannot go on, or could not start (no API key...)
        manifest.status = "failed"
        manifest.message = str(exc)
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        manifest.status = "interrupted"
        raise
    except BaseException as exc:  # anything else still ends the run truthfully, never `running` forever
        manifest.status = "failed"
        manifest.message = f"{type(exc).__name__}: {exc}"[:300]
        raise
    finally:
        await close_targets(targets)
        if executor is not None and hasattr(executor, "end"):
            executor.end(targets)
        manifest.ended_at = utcnow()
        store.save_run(manifest)
        store.set_alive(manifest.run_id, None)
    return progress


def _keep_runtimes(manifest: RunManifest, runtimes: list) -> None:
    known = {r.target_id: r for r in manifest.runtimes}
    known.update({r.target_id: r for r in runtimes})
    manifest.runtimes = list(known.values())
