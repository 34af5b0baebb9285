"""Execute work items against targets: per-endpoint concurrency, durable writes, clean interruption.

Shape: for each endpoint, ``concurrency`` workers pull items from that endpoint's queue and call
``target.generate``; finished responses go to one writer task that commits them in small batches and only
then counts them. A kill therefore loses at most the requests in flight and the responses not yet
committed, which were never counted; running the same plan again asks only for what the store lacks.

Work is claimed (docs/runner.md, "Claims"): a worker takes items in small chunks by claiming their keys in
the store with a lease, renews its leases while it works and releases each key once its response is
committed. Keys another worker holds wait until it stores them (then they are skipped) or its lease runs
out (a worker killed with -9: then they are taken over). Any number of processes, on one machine or
several sharing a store, thus share a run without asking a key twice.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Callable

from glasnost.errors import GlasnostError, TargetFatal
from glasnost.knows.mcq import MCQ_TOP_LOGPROBS
from glasnost.redact import known_secrets, mentions
from glasnost.textsafe import needs_repair, safe_response
from glasnost.records import Completion, GenerationConfig, Outcome, Response, TargetSpec, TransportConfig, utcnow
from glasnost.run.plan import WorkItem, sample_generation
from glasnost.store.base import Store
from glasnost.targets.base import ChatRequest, Target, build_messages

WRITE_BATCH = 256


@dataclass
class RunProgress:
    total: int  # items in the plan
    already: int  # items the store held before this invocation
    outcomes: Counter = field(default_factory=Counter)  # committed in this invocation
    scores: Counter = field(default_factory=Counter)  # white-box likelihood scores by status (glasnost.knows)
    elsewhere: int = 0  # items another worker stored while this one ran (never asked here)

    @property
    def done(self) -> int:
        return self.already + sum(self.outcomes.values()) + self.elsewhere


def new_worker_id() -> str:
    """Unique per process and machine: claims name who holds them."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def endpoint_of(spec: TargetSpec) -> str:
    """Concurrency is limited per endpoint: two models behind one server share its limit."""
    if spec.kind == "openai-compat" and spec.base_url:
        return spec.base_url.rstrip("/")
    return f"{spec.kind}:{spec.path or spec.model}"


def pending_items(store: Store, items: list[WorkItem]) -> list[WorkItem]:
    """Items whose key the store lacks, or holds only as an ``error`` (an error is not a result)."""
    stored = store.stored_outcomes(item.key for item in items)
    return [item for item in items if stored.get(item.key) in (None, Outcome.error.value)]


class Runner:
    def __init__(
        self,
        store: Store,
        run_id: str,
        generation: GenerationConfig,
        transport: TransportConfig,
        system_prompt: str | None = None,
        on_progress: Callable[[RunProgress], None] | None = None,
        worker: str | None = None,
        on_commit: Callable[[list[Response]], None] | None = None,
    ):
        self.store = store
        self.run_id = run_id
        self.generation = generation
        self.transport = transport
        self.system_prompt = system_prompt
        self.on_progress = on_progress
        self.on_commit = on_commit  # sees each batch once it is durable (run/judge_along.py judges it)
        self._results: asyncio.Queue[Response | None] = asyncio.Queue()
        self._fatal: TargetFatal | None = None
        self._no_logprobs: set[str] = set()  # targets that rejected a request for logprobs
        self.worker = worker or new_worker_id()
        self.lease_s = transport.lease_s
        self._seen: dict[str, str | None] = {}  # key -> stored digest when planned (None: nothing stored)

    async def execute(self, items: list[WorkItem], targets: dict[str, Target], total: int) -> RunProgress:
        progress = RunProgress(total=total, already=total - len(items))
        self._seen = {k: None for k in (item.key for item in items)}
        self._seen.update(self.store.response_digests(self._seen))
        queues: dict[str, _Claimed] = {}
        for item in items:
            queues.setdefault(endpoint_of(item.target), _Claimed(self.transport.concurrency)).queue.append(item)
        writer = asyncio.create_task(self._write(progress))
        heartbeat = asyncio.create_task(self._heartbeat())
        workers = [
            asyncio.create_task(self._work(claimed, targets, progress))
            for claimed in queues.values()
            for _ in range(min(self.transport.concurrency, len(claimed.queue)))
        ]
        try:
            if workers:
                await asyncio.gather(*workers)
        except BaseException:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            raise
        finally:
            heartbeat.cancel()
            # Commit whatever finished, whether we end normally, on a fatal target error or on Ctrl-C.
            await self._results.put(None)
            try:
                await asyncio.shield(writer)
            except asyncio.CancelledError:
                self._drain_now(progress)
            self.store.release(self.worker)  # what was claimed but not asked goes back at once
        if self._fatal is not None:
            raise self._fatal
        return progress

    async def _heartbeat(self) -> None:
        """Renew this worker's leases and the run's heartbeat while it works."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                self.store.renew(self.worker, self.lease_s, self.run_id)
            except GlasnostError:  # the store is busy past its timeout: the next beat tries again
                continue

    async def _next(self, claimed: "_Claimed", progress: RunProgress) -> WorkItem | None:
        """The next item this worker holds a claim on; None when the endpoint's work is all done."""
        while self._fatal is None:
            if claimed.ready:
                return claimed.ready.popleft()
            if claimed.queue:
                chunk = [claimed.queue.popleft() for _ in range(min(claimed.chunk, len(claimed.queue)))]
                held = set(self.store.claim(self.run_id, (i.key for i in chunk), self.worker, self.lease_s))
                now = self.store.response_digests(held)
                results = {k for k, o in self.store.stored_outcomes(held).items() if o != Outcome.error.value}
                done_elsewhere = [i.key for i in chunk if i.key in held
                                  and (i.key in results or now.get(i.key) != self._seen.get(i.key))]
                if done_elsewhere:  # another worker stored it since we planned: never ask twice
                    self.store.release(self.worker, done_elsewhere)
                    progress.elsewhere += len(done_elsewhere)
                    self._notify(progress)
                gone = set(done_elsewhere)
                claimed.ready.extend(i for i in chunk if i.key in held and i.key not in gone)
                claimed.waiting.extend(i for i in chunk if i.key not in held)
                continue
            if claimed.waiting:  # held by a live worker: wait until it stores them or its lease runs out
                loop = asyncio.get_running_loop()
                if loop.time() < claimed.retry_at:
                    await asyncio.sleep(claimed.retry_at - loop.time())
                    continue
                claimed.retry_at = loop.time() + min(1.0, self.lease_s / 4)  # one retry for all workers
                self._free_dead_holders(i.key for i in claimed.waiting)
                claimed.queue.extend(claimed.waiting)
                claimed.waiting.clear()
                continue
            return None
        return None

    def _free_dead_holders(self, keys) -> None:
        """Claims of a worker on this machine whose process is gone need not wait for their leases."""
        host = socket.gethostname()
        for holder in set(self.store.claimed_by_others(keys, self.worker).values()):
            parts = holder.rsplit(":", 2)  # new_worker_id(): host:pid:nonce
            if len(parts) == 3 and parts[0] == host and parts[1].isdigit() and not _alive(int(parts[1])):
                self.store.release(holder)

    async def _work(self, claimed: "_Claimed", targets: dict[str, Target], progress: RunProgress) -> None:
        while self._fatal is None:
            item = await self._next(claimed, progress)
            if item is None:
                return
            target = targets[item.target.id]
            request = ChatRequest(
                messages=build_messages(item.probe.text, self.system_prompt),
                generation=sample_generation(self.generation, item.sample_index),
                sample_index=item.sample_index,
                # mcq: the probability on each option letter too, where the endpoint has logprobs (knows vs says)
                logprobs=MCQ_TOP_LOGPROBS if item.probe.kind == "mcq" and item.target.id not in self._no_logprobs
                else None,
            )
            started = utcnow()
            at_boundary = getattr(target, "completions_at_boundary", False) is True
            try:
                completion = await target.generate(request)
                if request.logprobs and completion.outcome is Outcome.error and completion.http_status in (400, 422):
                    # Some endpoints (reasoning models) reject logprobs: ask again without, and stop asking.
                    self._no_logprobs.add(item.target.id)
                    completion = await target.generate(request.model_copy(update={"logprobs": None}))
            except TargetFatal as exc:
                self._fatal = exc
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a backend bug must not lose the run: record it as an error outcome
                completion = Completion(outcome=Outcome.error, error=f"{type(exc).__name__}: {exc}"[:500])
                at_boundary = False
            await self._results.put(self._response(item, completion, started, at_boundary))

    def _response(self, item: WorkItem, c: Completion, started, at_boundary: bool = False) -> Response:
        # The text boundary (textsafe) and the secret scrub, whatever the target: what reaches the store
        # can always be encoded, is bounded, and holds no known secret. A target whose completions already
        # passed both (``completions_at_boundary``) is not scanned again; the fields from the plan still are.
        response = Response(
            key=item.key,
            run_id=self.run_id,
            concept_id=item.probe.concept_id,
            lang=item.probe.lang,
            prompt=item.probe.text,
            target_id=item.target.id,
            target=item.target.identity(),
            sample_index=item.sample_index,
            outcome=c.outcome,
            text=c.text,
            reasoning=c.reasoning,
            thought_suppressed=c.thought_suppressed,
            finish_reason=c.finish_reason,
            http_status=c.http_status,
            provider_refusal=c.provider_refusal,
            error=c.error,
            raw=c.raw,
            usage=c.usage,
            latency_ms=c.latency_ms,
            retries=c.retries,
            logprobs=c.logprobs,
            repaired=c.repaired,
            clipped=c.clipped,
            started_at=started,
            finished_at=utcnow(),
        )
        if at_boundary and not _plan_fields_unsafe(response):
            return response
        return safe_response(response)

    async def _write(self, progress: RunProgress) -> None:
        done = False
        while not done:
            first = await self._results.get()
            batch: list[Response] = []
            if first is None:
                done = True
            else:
                batch.append(first)
            while not self._results.empty() and len(batch) < WRITE_BATCH:
                nxt = self._results.get_nowait()
                if nxt is None:
                    done = True
                    continue
                batch.append(nxt)
            self._commit(batch, progress)

    def _drain_now(self, progress: RunProgress) -> None:
        batch = []
        while not self._results.empty():
            r = self._results.get_nowait()
            if r is not None:
                batch.append(r)
        self._commit(batch, progress)

    def _commit(self, batch: list[Response], progress: RunProgress) -> None:
        if not batch:
            return
        self.store.put_responses(batch)  # durable before counted
        self.store.release(self.worker, [r.key for r in batch])
        progress.outcomes.update(r.outcome.value for r in batch)
        self._notify(progress)
        if self.on_commit is not None:
            self.on_commit(batch)

    def _notify(self, progress: RunProgress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)


def _plan_fields_unsafe(r: Response) -> bool:
    """Does what a response takes from the plan (a bank's probe, the target's names) need the boundary?"""
    fields = (r.key, r.run_id, r.concept_id, r.lang, r.prompt, r.target_id, *r.target.values())
    secrets = known_secrets()
    return needs_repair(fields) or (bool(secrets) and any(isinstance(f, str) and mentions(f, secrets)
                                                          for f in fields))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours
        return True
    return True


@dataclass
class _Claimed:
    """One endpoint's items: still to claim, claimed and ready, and held by another worker."""

    chunk: int
    queue: deque = field(default_factory=deque)
    ready: deque = field(default_factory=deque)
    waiting: list = field(default_factory=list)
    retry_at: float = 0.0  # loop time of the next claim attempt on waiting items


async def start_targets(specs: list[TargetSpec], transport: TransportConfig) -> tuple[dict[str, Target], list]:
    """Build and start each target once; a fatal start (no key, unreachable) closes the others."""
    from glasnost.targets.base import make_target

    targets: dict[str, Target] = {}
    runtimes = []
    try:
        for spec in specs:
            target = make_target(spec, transport)
            targets[spec.id] = target
            runtimes.append(await target.start())
    except BaseException:
        await close_targets(targets)
        raise
    return targets, runtimes


async def close_targets(targets: dict[str, Target]) -> None:
    for target in targets.values():
        try:
            await target.aclose()
        except Exception:  # closing must never mask the run's own outcome
            pass
