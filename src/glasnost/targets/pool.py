"""Connection pools that stay fast at high concurrency.

httpcore's pool re-scans every queued request against every connection on each request and each response,
so one pool of 256 connections spends most of its time in that scan (measured on a busy 2-core box against
the mock server: ~5 ms of client CPU per request at 256 concurrent; ~0.7 ms with pools of 2). Splitting the
connections over many tiny pools and sending each request to the least busy one keeps every scan short. The
client above sees one ordinary transport.
"""

from __future__ import annotations

import httpx

SHARD_CONNECTIONS = 2  # connections per pool (1-2 measured best; 16 already twice as slow at 256)


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several ``AsyncHTTPTransport`` pools; each request goes to the pool with the fewest in flight."""

    def __init__(self, connections: int, keepalive_expiry: float = 30.0) -> None:
        shards = max(1, -(-connections // SHARD_CONNECTIONS))
        per_shard = -(-connections // shards)
        limits = httpx.Limits(
            max_connections=per_shard, max_keepalive_connections=per_shard, keepalive_expiry=keepalive_expiry
        )
        tls = httpx.create_ssl_context()  # one shared context (loading CAs costs ~50 ms); honours SSL_CERT_FILE
        self._shards = [httpx.AsyncHTTPTransport(limits=limits, verify=tls) for _ in range(shards)]
        self._in_flight = [0] * shards

    @property
    def shards(self) -> int:
        return len(self._shards)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        i = min(range(len(self._shards)), key=self._in_flight.__getitem__)
        self._in_flight[i] += 1
        try:
            response = await self._shards[i].handle_async_request(request)
        except BaseException:
            self._in_flight[i] -= 1
            raise
        # The connection stays busy until the body is read and closed: free the slot then.
        response.stream = _Released(response.stream, self._in_flight, i)
        return response

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class _Released(httpx.AsyncByteStream):
    """A response body that gives its shard's slot back once, when closed."""

    def __init__(self, stream: httpx.AsyncByteStream, in_flight: list[int], index: int) -> None:
        self._stream, self._in_flight, self._index = stream, in_flight, index
        self._open = True

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        if self._open:
            self._open = False
            self._in_flight[self._index] -= 1
        await self._stream.aclose()
