"""An in-process transformers causal LM (the ``local`` extra): ``local:HUB_ID`` or ``local:FOLDER``.

The model lives in ONE worker thread. ``generate`` puts a job on a queue and awaits a future; the thread
takes a job, gathers up to ``batch_size`` more that share its generation config (waiting at most
``batch_wait_s`` for them to arrive), runs ``generate`` once on the left-padded batch and hands each caller
its row. So the runner's many concurrent ``generate`` calls become a few batched forward passes, and torch
is never touched from two threads.

- Prompts go through the tokenizer's own chat template (``add_generation_prompt=True``); its sha256 and the
  model revision (hub commit, or a hash of a folder's weight files) are recorded in ``TargetRuntime``.
- temperature 0 is greedy; otherwise each request samples with its own generator seeded from
  (seed, sample_index), so a sample is reproducible whatever else shared its batch.
- ``<think>`` blocks are split off like in the HTTP adapter; hitting ``max_tokens`` gives ``truncated``.
- ``score_continuations`` (for "knows vs says") runs in the same thread.
Not supported here: logprobs of generated tokens, structured output (``json_schema``) and provider ``extra``
parameters; they are ignored.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Mapping

from glasnost.textsafe import safe_record
from glasnost.errors import ConfigError
from glasnost.records import Completion, Outcome, TargetRuntime, TargetSpec, TransportConfig, Usage, canonical_json
from glasnost.targets.base import ChatMessage, ChatRequest
from glasnost.reasoning import answer_outcome, split_reasoning

_STOP = object()  # tells the worker to finish


@dataclass
class _Job:
    kind: str  # "generate" | "score"
    payload: Any
    future: asyncio.Future
    loop: asyncio.AbstractEventLoop
    group: str = ""  # generate jobs batch together only with the same generation config (seed aside)
    enqueued: float = field(default_factory=time.perf_counter)


class LocalTarget:
    """A transformers model in this process, batched through one worker thread."""

    def __init__(
        self,
        spec: TargetSpec,
        transport: TransportConfig | None = None,
        *,
        batch_size: int = 8,
        batch_wait_s: float = 0.01,
        device: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if spec.kind != "local":
            raise ConfigError(f"target {spec.id}: not a local target")
        self.spec = spec
        self.transport = transport or TransportConfig()
        self.batch_size = max(1, batch_size)
        self.batch_wait_s = batch_wait_s
        self._device = device
        self._environ = environ if environ is not None else os.environ
        self._jobs: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None
        self._loaded: Any = None
        self._runtime: TargetRuntime | None = None
        self._start_lock = asyncio.Lock()
        self.batch_sizes: list[int] = []  # size of every generate batch run (tests and tuning read it)

    def __repr__(self) -> str:
        return f"LocalTarget({self.spec.id!r})"

    async def start(self) -> TargetRuntime:
        async with self._start_lock:
            if self._runtime is not None:
                return self._runtime
            from glasnost.targets import local_backend

            self._loaded = await asyncio.to_thread(local_backend.load, self.spec, self._environ, self._device)
            self._thread = threading.Thread(target=self._work, name=f"glasnost-local-{self.spec.model}", daemon=True)
            self._thread.start()
            loaded = self._loaded
            self._runtime = TargetRuntime(
                target_id=self.spec.id,
                revision=loaded.revision,
                chat_template_sha=loaded.chat_template_sha,
                server="transformers (in-process)",
                extra={**loaded.extra, "batch_size": self.batch_size},
            )
            return self._runtime

    async def aclose(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._jobs.put(_STOP)
            await asyncio.to_thread(thread.join)
        self._loaded = None
        self._runtime = None

    # ---------------------------------------------------------------------------------------------------
    # asyncio side

    async def _submit(self, kind: str, payload: Any, group: str = "") -> Any:
        if self._runtime is None:
            await self.start()
        loop = asyncio.get_running_loop()
        job = _Job(kind, payload, loop.create_future(), loop, group)
        self._jobs.put(job)
        return await job.future

    async def generate(self, request: ChatRequest) -> Completion:
        group = canonical_json(request.generation.model_dump(exclude={"seed", "schema_version"}))
        return await self._submit("generate", request, group)

    async def score_continuations(
        self, prompt: str | list[ChatMessage], continuations: list[str], normalize: bool = False
    ) -> list[float]:
        """Log-likelihood of each continuation after ``prompt``: summed, or per token when ``normalize``.

        ``prompt`` is raw text (tokenised with the model's special tokens, e.g. BOS) or chat messages (rendered
        with the chat template and the assistant turn opened, so continuations are scored as answers).
        """
        scored = await self._submit("score", (prompt, list(continuations)))
        return [total / count if normalize else total for total, count in scored]

    # ---------------------------------------------------------------------------------------------------
    # worker thread

    def _work(self) -> None:
        pending: deque[_Job] = deque()  # jobs taken while gathering a batch they could not join
        stopping = False
        while True:
            if pending:
                job = pending.popleft()
            elif stopping:
                return
            else:
                job = self._jobs.get()
                if job is _STOP:
                    return
            batch = [job]
            if job.kind == "generate":
                stopping = self._gather(batch, pending) or stopping
                self._run_generate(batch)
            else:
                self._run_score(job)

    def _gather(self, batch: list[_Job], pending: deque[_Job]) -> bool:
        """Add same-config generate jobs to ``batch``; returns True when the stop sign was seen."""
        group = batch[0].group
        for other in list(pending):
            if len(batch) >= self.batch_size:
                break
            if other.kind == "generate" and other.group == group:
                pending.remove(other)
                batch.append(other)
        deadline = time.perf_counter() + self.batch_wait_s
        while len(batch) < self.batch_size:
            try:
                nxt = self._jobs.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                break
            if nxt is _STOP:
                return True
            if nxt.kind == "generate" and nxt.group == group:
                batch.append(nxt)
            else:
                pending.append(nxt)
        return False

    @staticmethod
    def _deliver(job: _Job, value: Any = None, error: BaseException | None = None) -> None:
        def settle() -> None:
            if job.future.done():  # the caller was cancelled
                return
            if error is not None:
                job.future.set_exception(error)
            else:
                job.future.set_result(value)

        try:
            job.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the caller's loop is gone
            pass

    def _run_generate(self, batch: list[_Job]) -> None:
        from glasnost.targets import local_backend

        self.batch_sizes.append(len(batch))
        loaded = self._loaded
        started = time.perf_counter()
        requests: list[ChatRequest] = [job.payload for job in batch]
        try:
            prompts = [local_backend.render(loaded, [m.model_dump() for m in r.messages]) for r in requests]
            seeds = [local_backend.sample_seed(r.generation.seed, r.sample_index) for r in requests]
            results = local_backend.generate_batch(loaded, prompts, requests[0].generation, seeds)
        except Exception as exc:
            if len(batch) > 1:  # e.g. out of memory: try each request alone before giving up on it
                for job in batch:
                    self._run_generate([job])
                return
            message = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
            self._deliver(batch[0], Completion(outcome=Outcome.error, error=f"local generation failed: {message}"))
            return
        latency_ms = (time.perf_counter() - started) * 1000.0
        for job, result in zip(batch, results):
            self._deliver(job, self._completion(result, latency_ms))

    @staticmethod
    def _completion(result: Any, latency_ms: float) -> Completion:
        split = split_reasoning(result.text)
        return safe_record(Completion(  # the text boundary: surrogates repaired, size capped
            outcome=answer_outcome(result.finish_reason, split.text),
            text=split.text,
            reasoning=split.reasoning,
            thought_suppressed=split.thought_suppressed,
            finish_reason=result.finish_reason,
            usage=Usage(
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                total_tokens=result.prompt_tokens + result.completion_tokens,
            ),
            latency_ms=latency_ms,
        ))

    def _run_score(self, job: _Job) -> None:
        from glasnost.targets import local_backend

        prompt, continuations = job.payload
        try:
            if isinstance(prompt, str):
                prefix, special = prompt, True
            else:
                messages = [m.model_dump() if isinstance(m, ChatMessage) else dict(m) for m in prompt]
                prefix, special = local_backend.render(self._loaded, messages), False
            self._deliver(job, local_backend.score(self._loaded, prefix, continuations, special))
        except Exception as exc:  # a bad input must reach the caller, not kill the worker
            self._deliver(job, error=exc)
