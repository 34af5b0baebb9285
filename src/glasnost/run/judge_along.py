"""Judge while the audit runs: verdicts for committed answers are computed while later requests are in flight.

Why: on a latency-bound audit the machine waits for the model most of the time; judging afterwards added
its whole cost to the command. The runner hands each committed batch to ``JudgeAlong.feed`` (its
``on_commit`` hook); a worker thread judges it with the offline judge, off the event loop; the finished
verdicts are written by the loop's own thread (the store's connection stays on one thread) at the next
commit and at ``finish``. The later ``judge_run`` then finds them cached and judges only what is left
(responses from earlier invocations, anything this one could not do).

Nothing here can change a result: a verdict carries the digest of the very response object that was
committed (``judge.runner.stamped``), so should the store have repaired a row on the way in, the digests
differ, the store never returns that verdict, and ``judge_run`` judges the stored row again. Only the
offline judge runs here (it is deterministic, needs no network and has a synchronous ``judge_item``); LLM
judges and panels keep the path after the audit. A failure in the worker stops it quietly: whatever it did
not judge is judged afterwards, as before.
"""

from __future__ import annotations

import inspect
import queue
import threading
from collections import deque
from typing import Any

from glasnost.records import Concept, Response, Verdict


def judges_offline(judge: Any) -> bool:
    """The judges that may run alongside: synchronous and offline (the default judge), never a panel/LLM."""
    judge_item = getattr(judge, "judge_item", None)
    return (judge is not None and callable(judge_item) and not inspect.iscoroutinefunction(judge_item)
            and not hasattr(judge, "members"))


class JudgeAlong:
    def __init__(self, store: Any, judge: Any, concepts: dict[str, Concept]) -> None:
        self.store = store
        self.judge = judge
        self.concepts = concepts
        self.written = 0  # verdicts written so far
        self.failed: str | None = None  # the worker's first failure (what is left is judged afterwards)
        self._todo: queue.SimpleQueue[list[Response] | None] = queue.SimpleQueue()
        self._done: deque[list[Verdict]] = deque()
        self._thread = threading.Thread(target=self._work, name="glasnost-judge-along", daemon=True)
        self._thread.start()

    def feed(self, batch: list[Response]) -> None:
        """The runner's ``on_commit`` hook (event-loop thread): write finished verdicts, queue the new batch."""
        self._write_done()
        if self.failed is None and batch:
            self._todo.put(list(batch))

    def finish(self, stop: bool = False) -> int:
        """Wait for the queued batches (``stop``: only the one being judged) and write their verdicts; returns
        the verdicts written in all."""
        if stop:
            self.failed = self.failed or "stopped"
        self._todo.put(None)
        self._thread.join()
        self._write_done()
        return self.written

    def _work(self) -> None:
        from glasnost.judge.item import Item
        from glasnost.judge.runner import stamped

        while (batch := self._todo.get()) is not None:
            if self.failed is not None:
                continue  # drain: what is left is judged after the audit
            try:
                verdicts = [self.judge.judge_item(Item.from_response(r, self.concepts.get(r.concept_id)))
                            for r in batch]
                self._done.append(stamped(verdicts, batch))
            except Exception as exc:  # never the run's problem: judge_run judges these afterwards
                self.failed = f"{type(exc).__name__}: {exc}"[:300]

    def _write_done(self) -> None:
        while self._done:
            verdicts = self._done.popleft()
            try:
                self.store.put_verdicts(verdicts)
            except Exception as exc:  # the store is busy or failing: the audit's own writes decide; judged later
                self.failed = self.failed or f"{type(exc).__name__}: {exc}"[:300]
                self._done.clear()
                return
            self.written += len(verdicts)
