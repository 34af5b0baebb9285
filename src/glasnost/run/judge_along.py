"""Judge while the audit runs: verdicts for committed answers are computed while later requests are in flight.

Why: on a latency-bound audit the machine waits for the model most of the time; judging afterwards added
its whole cost to the command. The runner hands each committed batch to ``JudgeAlong.feed`` (its
``on_commit`` hook); a worker judges it with the offline judge, off the event loop; the finished verdicts
are written by the loop's own thread (the store's connection stays on one thread) at the next commit and
at ``finish``. The later ``judge_run`` then finds them cached and judges only what is left (responses from
earlier invocations, anything this one could not do).

The workers are forked processes where the platform has ``fork`` (two with 4+ cores, else one), else a
thread. Processes run on other cores and never hold this process's GIL: a judging thread made every socket
and SQLite call of the event loop wait for the GIL, which cost more than it saved on a fast server. They are
forked before the event loop starts and never touch the store. Batches go to them and verdicts come back
through ``multiprocessing`` queues, whose feeder threads keep the event loop from ever blocking on a pipe.
A worker holds at most two batches; the rest waits here as each response's judged content only
(``records.judged_content``), and once the last answer is in this process judges that backlog itself, beside
the worker process, instead of waiting for it (a worker thread gets it all: it shares this process's GIL). A run of fewer than ``ALONG_FROM`` items starts no worker at all.
Each worker (and this process) judges a content once: an answer whose judged fields, the key aside, equal one
judged before gets a copy of that verdict under its own key and digest (``_judge_contents``; samples at
temperature 0 usually repeat).

Nothing here can change a result: a verdict carries the digest of the very content it judged, taken from the
response object that was committed (``records.judged_digest``), so should the store have repaired a row on the way in, the digests
differ, the store never returns that verdict, and ``judge_run`` judges the stored row again. Only the
offline judge runs here (deterministic, no network, a synchronous ``judge_item``); LLM judges and panels
keep the path after the audit. A failure in the worker stops it quietly: whatever it did not judge is
judged afterwards, as before.
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import queue
import threading
from collections import deque
from typing import Any

from glasnost.records import Concept, Response, judged_content, judged_digest, utcnow

_DONE = "done"


def judges_offline(judge: Any) -> bool:
    """The judges that may run alongside: synchronous and offline (the default judge), never a panel/LLM."""
    judge_item = getattr(judge, "judge_item", None)
    return (judge is not None and callable(judge_item) and not inspect.iscoroutinefunction(judge_item)
            and not hasattr(judge, "members"))


# Below this many items a worker costs more than it saves (a fork, the judge's first-use loading in the worker,
# the hand-off): ``judge_run`` judges them in this process after the audit, in a few tens of milliseconds.
ALONG_FROM = 256


def worth_judging_along(judge: Any, items: int) -> bool:
    """Judge while the audit runs: an offline judge, and enough answers for a worker to pay for itself."""
    return judges_offline(judge) and items >= ALONG_FROM


# Answers judged once per worker and content: the same judged content (every judged field but the response key)
# gets the same verdict, so a repeat is a copy of the first verdict under its own key. Repeats are common: at
# temperature 0 (the default) every sample of a probe is usually the same answer. Bounded: past this many
# distinct contents nothing more is remembered.
MEMO_MAX = 4096


def _judge_contents(judge: Any, concepts: dict[str, Concept], batch: list[dict[str, Any]],
                    memo: dict[Any, Any] | None = None) -> list[tuple]:
    """Verdicts, as the rows the store keeps (``store.base.verdict_row``), for responses given as their
    ``records.judged_content``, each stamped with the digest of that very content: what is judged and what the
    digest covers are the same fields, read once. Encoded here, in the worker: the loop's thread only stores
    them (a pickled verdict costs the receiver ~20 µs to rebuild and ~10 µs to encode; a row, under 1 µs).

    ``memo`` (a dict this function fills): a content judged before gets a copy of its verdict (the offline
    judge reads nothing but the judged fields, and uses the key only to name the verdict's response)."""
    from glasnost.judge.item import Item
    from glasnost.store.base import verdict_row

    out = []
    for content in batch:
        same = _content_key(content) if memo is not None else None
        first = memo.get(same) if same is not None else None
        if first is None:
            fields = {k: v for k, v in content.items() if k != "concept_id"}
            verdict = judge.judge_item(Item(**fields, concept=concepts.get(content["concept_id"])))
            if same is not None and len(memo) < MEMO_MAX:
                memo[same] = verdict.model_copy()
        else:
            verdict = first.model_copy(update={"response_key": content["key"], "created_at": utcnow()})
        verdict.response_digest = judged_digest(content)
        out.append(verdict_row(verdict))
    return out


def _content_key(content: dict[str, Any]) -> tuple | None:
    """Everything judged but the response key, hashable (None if a value is not)."""
    key = tuple(sorted((k, v) for k, v in content.items() if k != "key"))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _judge_batches(todo: Any, done: Any, judge: Any, concepts: dict[str, Concept], parent: int | None = None) -> None:
    """The worker: batches of judged contents in, ("verdicts", rows) or ("failed", reason) out, then _DONE. A
    worker process whose parent is gone (killed with -9) ends within a second instead of waiting forever."""
    failed = False
    memo: dict[Any, Any] = {}
    while True:
        try:
            batch = todo.get(timeout=1.0)
        except queue.Empty:
            if parent is not None and os.getppid() != parent:
                return
            continue
        if batch is None:
            break
        if failed:
            continue  # drain: what is left is judged after the audit
        try:
            done.put(("verdicts", _judge_contents(judge, concepts, batch, memo)))
        except Exception as exc:  # never the run's problem: judge_run judges these afterwards
            failed = True
            done.put(("failed", f"{type(exc).__name__}: {exc}"[:300]))
    done.put((_DONE, None))


# Batches the worker holds at most (the one it judges and the next): the rest waits here, so that when the
# audit ends this process can judge the backlog alongside the worker instead of waiting for it alone.
IN_FLIGHT = 2
CHUNK = 64  # responses judged here at a time at the end, between hand-offs to the worker


class JudgeAlong:
    def __init__(self, store: Any, judge: Any, concepts: dict[str, Concept], use_process: bool | None = None) -> None:
        self.store = store
        self.judge = judge
        self.concepts = concepts
        self.written = 0  # verdicts written so far
        self.failed: str | None = None  # the worker's first failure (what is left is judged afterwards)
        # Committed, not yet handed to a worker: each response as its judged content only (records.judged_content:
        # no raw reply, usage or timings), which is also all that is pickled to a worker process.
        self._backlog: deque[list[dict[str, Any]]] = deque()
        self._in_flight = 0  # batches handed to the workers whose verdicts have not come back
        if use_process is None:
            use_process = "fork" in multiprocessing.get_all_start_methods()
        self._processes = bool(use_process)
        if use_process:
            # Two where there are cores to spare (once the last answer is in, the judging left uses both); on
            # a 2-core machine a second worker only takes CPU from the audit and a local server.
            ctx = multiprocessing.get_context("fork")
            self._todo: Any = ctx.Queue()
            self._done: Any = ctx.Queue()
            self._workers: list[Any] = [
                ctx.Process(target=_judge_batches, args=(self._todo, self._done, judge, concepts, os.getpid()),
                            name="glasnost-judge-along", daemon=True)
                for _ in range(2 if (os.cpu_count() or 1) >= 4 else 1)]
        else:
            self._todo = queue.SimpleQueue()
            self._done = queue.SimpleQueue()
            self._workers = [threading.Thread(target=_judge_batches, args=(self._todo, self._done, judge, concepts),
                                              name="glasnost-judge-along", daemon=True)]
        for worker in self._workers:
            worker.start()
        self._running = len(self._workers)  # workers that have not said _DONE
        self._memo: dict[Any, Any] = {}  # this process's (see _judge_contents); a worker keeps its own
        self._finished = False

    def feed(self, batch: list[Response]) -> None:
        """The runner's ``on_commit`` hook (event-loop thread): write finished verdicts, queue the new batch."""
        self._collect(block=False)
        if self.failed is None and batch:
            self._backlog.append([judged_content(r) for r in batch])
        self._hand_off()

    def _hand_off(self) -> None:
        """Keep each worker busy with at most IN_FLIGHT batches; the rest stays in the backlog."""
        while self.failed is None and self._backlog and self._in_flight < IN_FLIGHT * len(self._workers):
            self._todo.put(self._backlog.popleft())
            self._in_flight += 1

    def finish(self, stop: bool = False) -> int:
        """Wait for the queued batches and write their verdicts (``stop``: only what is already judged, the
        worker is ended); returns the verdicts written in all. What the workers have not been handed yet is
        judged here meanwhile: once the audit is over this process has nothing else to do."""
        if self._finished:
            return self.written
        if stop:
            self._collect(block=False)
            self.failed = self.failed or "stopped"
            for worker in self._workers:
                if hasattr(worker, "kill"):
                    worker.kill()
                else:
                    self._todo.put(None)
        elif self._processes:
            self._judge_backlog_here()
            for _ in self._workers:
                self._todo.put(None)
            self._collect(block=True)
        else:  # a judging thread shares this process's GIL (and the judge object): it gets the whole backlog
            while self.failed is None and self._backlog:
                self._todo.put(self._backlog.popleft())
                self._in_flight += 1
            for _ in self._workers:
                self._todo.put(None)
            self._collect(block=True)
        self._backlog.clear()
        for worker in self._workers:
            worker.join(timeout=10)
        self._finished = True
        return self.written

    def _judge_backlog_here(self) -> None:
        while self.failed is None and self._backlog:
            batch = self._backlog.popleft()
            if len(batch) > CHUNK:  # small steps, so the worker is handed its next batch without waiting
                self._backlog.appendleft(batch[CHUNK:])
                batch = batch[:CHUNK]
            try:
                rows = _judge_contents(self.judge, self.concepts, batch, self._memo)
            except Exception as exc:  # as in the worker: judge_run judges what is left afterwards
                self.failed = self.failed or f"{type(exc).__name__}: {exc}"[:300]
                return
            self._write(rows)
            self._collect(block=False)
            self._hand_off()

    def _write(self, rows: list) -> None:
        if self.failed is not None and self.failed.startswith("store: "):
            return
        try:
            self.store.put_verdict_rows(rows)
        except Exception as exc:  # the store is busy or failing: the audit's own writes decide; judged later
            self.failed = self.failed or f"store: {type(exc).__name__}: {exc}"[:300]
            return
        self.written += len(rows)

    def _collect(self, block: bool) -> None:
        while True:
            try:
                kind, value = self._done.get(timeout=0.5) if block else self._done.get_nowait()
            except queue.Empty:
                if block and self._running and any(w.is_alive() for w in self._workers):
                    continue
                return
            except (EOFError, OSError):  # the worker is gone: what it did not judge is judged afterwards
                return
            if kind == _DONE:
                self._running -= 1
                if self._running <= 0:
                    return
                continue
            self._in_flight -= 1
            if kind == "failed":
                self.failed = self.failed or value
                continue
            self._write(value)
