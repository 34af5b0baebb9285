"""Run a plan on a Ray cluster (the ``ray`` extra): ``glasnost run --executor ray[:ADDRESS] --workers N``.

The store stays the one source of truth. The driver saves the manifest and the plan as a plain run does,
then starts N worker tasks; each opens the same store (an SQLite file on one machine, a PostgreSQL URL
anywhere) and runs the ordinary ``Runner`` over the pending items: it claims keys with a lease, asks, commits,
releases (docs/runner.md, "Claims"). Worker i starts at i/N of the plan, so the workers claim different keys
until they meet; the work is thus shared dynamically, nothing is asked twice, and a
worker (or node) that dies only delays the keys it held until their leases run out; Ray retries its task,
which skips what is stored.

- ``local:`` targets become one Ray actor each (every worker is handed the same actor), with the resources the
  model needs (a GPU where the cluster has one, memory from the weights' size): the model is loaded once per
  actor and its ``LocalTarget`` batches the concurrent requests of all workers.
- API targets keep their per-endpoint concurrency across the whole cluster: ``--concurrency C`` is divided
  among the workers (worker i gets C // N, plus one for i < C % N; a worker with no share is not started).
  Dividing costs nothing per request and survives a worker's death (its share is simply unused), where a
  cluster-wide semaphore actor would add two round trips per request and leak permits held by a dead worker.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from glasnost.errors import ConfigError, GlasnostError
from glasnost.records import Outcome, RunManifest, TargetRuntime, TargetSpec, TransportConfig
from glasnost.run.execute import RunProgress
from glasnost.run.plan import WorkItem
from glasnost.store.base import Store

TASK_RETRIES = 3  # a worker task killed with its process is started again; it skips what is stored


def parse_executor(value: str) -> tuple[str, str | None]:
    """``local`` | ``ray`` | ``ray:ADDRESS`` (e.g. ray:auto, ray:ray://head:10001) -> (kind, address)."""
    kind, _, address = value.strip().partition(":")
    if kind not in ("local", "ray") or (kind == "local" and address):
        raise ConfigError(f"--executor {value!r}: give local, ray, or ray:ADDRESS (e.g. ray:auto)")
    return kind, address or None


def shares(concurrency: int, workers: int) -> list[int]:
    """The per-worker concurrency that sums to ``concurrency`` (workers without a share are left out)."""
    return [s for s in (concurrency // workers + (1 if i < concurrency % workers else 0) for i in range(workers)) if s]


def _one_line(ray: Any, exc: BaseException) -> BaseException:
    """A worker's or an actor's own GlasnostError (no key, a model that cannot load) as it was raised there;
    any other Ray failure as one line; everything else (Ctrl-C) unchanged."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, GlasnostError):
        return cause
    if isinstance(exc, ray.exceptions.RayError):
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        return GlasnostError(f"Ray workers failed ({type(exc).__name__}: {first}); what they stored is kept: run "
                             "the same command again")
    return exc


def _ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--executor ray needs the ray extra: pip install 'glasnost[ray]'") from None
    return ray


class _ActorTarget:
    """A ``local:`` target living in a Ray actor, as a Target for a worker's Runner."""

    def __init__(self, spec: TargetSpec, actor: Any):
        self.spec = spec
        self.actor = actor

    async def start(self) -> TargetRuntime:
        return await self.actor.start.remote()

    async def generate(self, request):
        return await self.actor.generate.remote(request)

    async def score_continuations(self, prompt, continuations, normalize: bool = False):
        return await self.actor.score_continuations.remote(prompt, continuations, normalize)

    async def aclose(self) -> None:  # the actor outlives a worker; the driver ends it
        pass


class _LocalModel:
    """The actor body: one LocalTarget, started once (async actor: concurrent calls batch in LocalTarget)."""

    def __init__(self, spec: TargetSpec, transport: TransportConfig):
        from glasnost.targets.local import LocalTarget

        self.target = LocalTarget(spec, transport)
        self.runtime: TargetRuntime | None = None

    async def start(self) -> TargetRuntime:
        if self.runtime is None:
            self.runtime = await self.target.start()
        return self.runtime

    async def generate(self, request):
        await self.start()
        return await self.target.generate(request)

    async def score_continuations(self, prompt, continuations, normalize):
        await self.start()
        return await self.target.score_continuations(prompt, continuations, normalize=normalize)


def _model_memory(spec: TargetSpec) -> int | None:
    """Bytes a local model needs, for Ray's scheduler: its weight files and half again (activations)."""
    folder = Path(spec.path or spec.model)
    if not folder.is_dir():
        return None
    size = sum(p.stat().st_size for p in folder.iterdir() if p.suffix in (".safetensors", ".bin", ".pt"))
    return int(size * 1.5) or None


def _work(db: str, run_id: str, items: list[WorkItem], specs: list[TargetSpec], transport: TransportConfig,
          manifest_bits: dict[str, Any], actors: dict[str, Any], total: int) -> dict[str, Any]:
    """One worker (a Ray task): the ordinary Runner over the items, claiming from the shared store."""
    from glasnost.errors import StoreError
    from glasnost.run.execute import Runner, close_targets
    from glasnost.store import is_url, open_store
    from glasnost.targets.base import make_target

    if not is_url(db) and not Path(db).exists():  # never start an empty store of its own on another node
        raise StoreError(f"the store {db} is not on this Ray node ({os.uname().nodename}); an SQLite store serves "
                         "workers on one machine only: use a PostgreSQL store (--db postgresql://...)")

    runtimes: list[TargetRuntime] = []

    async def main() -> RunProgress:
        targets = {s.id: _ActorTarget(s, actors[s.id]) if s.id in actors else make_target(s, transport)
                   for s in specs}
        try:
            for t in targets.values():
                runtimes.append(await t.start())
            runner = Runner(store, run_id, manifest_bits["generation"], transport, manifest_bits["system_prompt"])
            return await runner.execute(items, targets, total=total)
        finally:
            await close_targets(targets)

    store = open_store(db)
    try:
        progress = asyncio.run(main())
    finally:
        store.close()
    return {"outcomes": dict(progress.outcomes), "elsewhere": progress.elsewhere, "pid": os.getpid(),
            "runtimes": runtimes}


@dataclass
class RayExecutor:
    """Carries out a plan's pending items on Ray workers (see the module's note)."""

    db: str  # the store's location as the workers open it (a path on one machine, or a URL)
    workers: int = 2
    address: str | None = None
    worker_cpus: float = 0.25  # workers mostly wait on the network and the store
    poll_s: float = 0.5

    def connect(self) -> Any:
        ray = _ray()
        if not ray.is_initialized():
            ray.init(address=self.address, include_dashboard=False, log_to_driver=False,
                     logging_level="WARNING", configure_logging=False)
        return ray

    async def execute(self, store: Store, manifest: RunManifest, specs: list[TargetSpec], todo: list[WorkItem],
                      total: int, on_progress: Callable[[RunProgress], None] | None,
                      on_start: Callable[[RunProgress], None] | None) -> tuple[RunProgress, dict, list]:
        """Returns (progress, targets for the driver's own use, e.g. likelihood scores, runtimes)."""
        ray = self.connect()
        progress = RunProgress(total=total, already=total - len(todo))
        actors = self._local_actors(ray, [s for s in specs if s.kind == "local"], manifest.transport)
        proxies = {sid: _ActorTarget(next(s for s in specs if s.id == sid), a) for sid, a in actors.items()}
        try:
            runtimes = [await t.start() for t in proxies.values()]  # a model that cannot load fails here, once
        except BaseException as exc:
            self.end(proxies)
            raise _one_line(ray, exc) from None
        if on_start is not None:
            on_start(progress)
        refs = []
        work = ray.remote(_work).options(num_cpus=self.worker_cpus, max_retries=TASK_RETRIES,
                                         retry_exceptions=False)
        bits = {"generation": manifest.generation, "system_prompt": manifest.system_prompt}
        parts = shares(manifest.transport.concurrency, self.workers) if todo else []
        for index, share in enumerate(parts):
            transport = manifest.transport.model_copy(update={"concurrency": share})
            start = index * len(todo) // len(parts)  # each starts on its own stretch, then takes what is left
            items = todo[start:] + todo[:start]
            refs.append(work.remote(self.db, manifest.run_id, items, specs, transport, bits, actors, total))
        try:
            results = await asyncio.to_thread(self._wait, ray, refs, store, todo, progress, on_progress)
        except BaseException as exc:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise _one_line(ray, exc) from None
        for r in results:
            progress.outcomes.update(r["outcomes"])
            runtimes.extend(rt for rt in r["runtimes"] if rt.target_id not in {x.target_id for x in runtimes})
        stored = {k for k, o in store.stored_outcomes(i.key for i in todo).items()}
        progress.elsewhere = max(0, len(stored) - sum(progress.outcomes.values()))  # retried or other processes
        return progress, proxies, runtimes

    def _wait(self, ray: Any, refs: list, store: Store, todo: list[WorkItem], progress: RunProgress,
              on_progress: Callable[[RunProgress], None] | None) -> list[dict]:
        pending = list(refs)
        keys = [i.key for i in todo]
        while pending:
            _, pending = ray.wait(pending, num_returns=len(pending), timeout=self.poll_s)
            if on_progress is not None and keys:
                stored = store.stored_outcomes(keys)
                view = RunProgress(total=progress.total, already=progress.already,
                                   outcomes=Counter(o for o in stored.values() if o != Outcome.error.value))
                on_progress(view)
        return ray.get(refs)

    def _local_actors(self, ray: Any, specs: list[TargetSpec], transport: TransportConfig) -> dict[str, Any]:
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        actors = {}
        for spec in specs:
            options: dict[str, Any] = {"num_gpus": gpus, "num_cpus": 1, "max_concurrency": 256}
            memory = _model_memory(spec)
            if memory:
                options["memory"] = memory
            actors[spec.id] = ray.remote(_LocalModel).options(**options).remote(spec, transport)
        return actors

    def end(self, proxies: dict) -> None:
        """Stop the model actors of this run."""
        ray = _ray()
        for proxy in proxies.values():
            try:
                ray.kill(proxy.actor)
            except Exception:  # already gone with its node
                pass
