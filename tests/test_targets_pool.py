"""The sharded connection pool over real sockets (the mock server in its own process)."""

from __future__ import annotations

import asyncio

import pytest

from glasnost.records import Outcome, TransportConfig
from glasnost.targets.base import ChatRequest, build_messages
from glasnost.targets.http11 import DirectClient, HTTP11Transport
from glasnost.targets.openai_compat import OpenAICompatTarget
from glasnost.targets.pool import SHARD_CONNECTIONS, ShardedTransport
from glasnost.targets.spec import parse_target
from helpers_runner import MockServer

pytestmark = pytest.mark.slow


def test_shard_sizes():
    t = ShardedTransport(260)
    assert t.shards * SHARD_CONNECTIONS >= 260 and (t.shards - 1) * SHARD_CONNECTIONS < 260
    assert ShardedTransport(1).shards == 1


async def test_transport_choice_by_scheme_and_proxy():
    async def pick(spec: str, environ: dict) -> object:
        target = OpenAICompatTarget(parse_target(spec), TransportConfig(concurrency=32), environ=environ)
        client = target._open()
        chosen = getattr(client, "_transport", client)
        await target.aclose()
        return chosen

    assert isinstance(await pick("vllm:m", {}), DirectClient)  # plain http: the direct client, no httpx at all
    assert isinstance(await pick("openai-compat:https://api.example/v1#m", {}), ShardedTransport)
    proxied = await pick("openai-compat:https://api.example/v1#m", {"HTTPS_PROXY": "http://proxy:3128"})
    assert not isinstance(proxied, (ShardedTransport, HTTP11Transport))  # httpx's own, proxy-aware


async def test_many_concurrent_requests_over_real_sockets_spread_and_release():
    server = MockServer()
    try:
        pool = ShardedTransport(68)  # what https endpoints get; exercised here over plain http
        target = OpenAICompatTarget(parse_target(f"openai-compat:{server.base_url}#m"), TransportConfig(concurrency=64),
                                    environ={}, http_transport=pool)
        await target.start()
        gate = asyncio.Semaphore(64)
        peak = 0

        async def one(i: int):
            nonlocal peak
            async with gate:
                c = await target.generate(ChatRequest(messages=build_messages(f"question {i}")))
                peak = max(peak, max(pool._in_flight))
                return c

        results = await asyncio.gather(*(one(i) for i in range(600)))
        in_flight_after = list(pool._in_flight)
        await target.aclose()
    finally:
        server.close()
    assert all(c.outcome is Outcome.ok for c in results)
    assert [c.text for c in results[:2]] == ["Mock answer from m: question 0", "Mock answer from m: question 1"]
    assert in_flight_after == [0] * pool.shards  # every body closed gave its slot back
    assert peak <= SHARD_CONNECTIONS + 1  # least-busy routing keeps each small pool within its connections
