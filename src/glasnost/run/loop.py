"""Run a coroutine on the fastest event loop available (uvloop where installed, else asyncio's)."""

from __future__ import annotations

import asyncio
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")

# uvloop saves tens of microseconds of CPU per request but costs ~50 ms to import: worth it from a few
# hundred requests on (a --limit 1 check, a small resume, or a slow remote model gains nothing from it).
FAST_LOOP_FROM = 500


def run_async(coro: Coroutine[Any, Any, T], requests: int | None = None) -> T:
    """``requests``: how many the coroutine will send, when known (uvloop only where it pays)."""
    if requests is not None and requests < FAST_LOOP_FROM:
        return asyncio.run(coro)
    try:
        import uvloop  # a faster loop roughly halves the runner's per-request CPU; optional
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)
