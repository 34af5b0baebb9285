"""Lean HTTP/1.1 over keep-alive connections for plain-http endpoints (local servers): a transport for httpx,
and a direct client (``DirectClient``) that the OpenAI-compatible adapter uses for its requests.

Why: httpcore's connection pool costs over a millisecond of CPU per request on a small machine and
degrades as connections grow (its pool is scanned on every request), which caps an audit of a local
vLLM / Ollama / llama.cpp server far below what the server can do. This transport keeps httpx's client
API (requests, responses, timeouts, MockTransport in tests) and replaces only the wire: a deque of idle
keep-alive connections per host, one request per connection at a time, Content-Length or chunked bodies.

The direct client goes further: the request head is built once per endpoint and each request is one bytes
join and one exchange, with no httpx Request/Response/URL/Headers objects at all.

It is deliberately small: no proxies, no HTTP/2, no compression (it asks for identity encoding), plain
http only. Hosted APIs over https keep httpx's default transport.

This module does not import httpx (≈ 50 ms at start-up that a run against a local server never needs):
failures are its own exceptions, named as httpx names them (``ReadTimeout``, ``ConnectError``, ...), so
messages read the same on both paths; the httpx transport (``HTTP11Transport``, in ``http11_httpx``) turns
them into httpx's own.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any
from urllib.parse import quote, urlsplit

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
MAX_IDLE_PER_HOST = 1024


class TransportError(Exception):
    """A request that failed on the wire (httpx: ``RequestError``)."""


class TimeoutException(TransportError):
    """(httpx: ``TimeoutException``)"""


class ReadTimeout(TimeoutException):
    pass


class ConnectTimeout(TimeoutException):
    pass


class ConnectError(TransportError):
    pass


class RemoteProtocolError(TransportError):
    pass


CONNECT_ERRORS = (ConnectError, ConnectTimeout)  # the endpoint cannot be reached at all


def __getattr__(name: str) -> Any:  # the httpx transport, imported (with httpx) only when asked for
    if name == "HTTP11Transport":
        from glasnost.targets.http11_httpx import HTTP11Transport

        return HTTP11Transport
    raise AttributeError(name)


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        try:
            self.writer.close()
        except Exception:  # closing an already broken socket
            pass


class ConnectionPool:
    """Idle keep-alive connections per (host, port); one exchange per connection at a time."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], deque[_Conn]] = {}

    async def exchange(self, host: str, port: int, data: bytes, method: str, connect_timeout: float | None,
                       read_timeout: float | None):
        """(status, headers, content) of one request (``data``: head and body). Failures are raised as this
        module's exceptions (``TransportError``)."""
        pool = self._idle.get((host, port))
        if pool is None:
            pool = self._idle[(host, port)] = deque()
        # A reused keep-alive connection may have been closed by the server meanwhile: retry once, fresh.
        for attempt in (0, 1):
            conn = None
            while pool and conn is None:
                candidate = pool.pop()
                conn = candidate if candidate.usable() else candidate.close()
            reused = conn is not None
            if conn is None:
                conn = await self._connect(host, port, connect_timeout)
            try:
                status, headers, content, keep = await _exchange(conn, data, method, read_timeout)
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                conn.close()
                if reused and attempt == 0 and not isinstance(exc, (asyncio.LimitOverrunError, ValueError)):
                    continue
                raise RemoteProtocolError(f"connection lost: {type(exc).__name__}") from None
            except TimeoutError:
                conn.close()
                raise ReadTimeout("timed out waiting for the response") from None
            except BaseException:
                conn.close()  # cancelled mid-exchange: the connection's state is unknown
                raise
            if keep and len(pool) < MAX_IDLE_PER_HOST:
                pool.append(conn)
            else:
                conn.close()
            return status, headers, content
        raise AssertionError("unreachable")  # pragma: no cover

    async def _connect(self, host: str, port: int, timeout: float | None) -> _Conn:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, limit=MAX_HEAD), timeout)
        except TimeoutError:
            raise ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        return _Conn(reader, writer)

    def close(self) -> None:
        for pool in self._idle.values():
            while pool:
                pool.pop().close()


class ReplyHeaders(dict):
    """A reply's headers by lower-case name (the last of repeated ones): ``get`` ignores case."""

    def get(self, name: str, default=None):  # type: ignore[override]
        return super().get(name.lower(), default)


class DirectReply:
    """What the direct client returns: the status, headers and body bytes, nothing parsed further."""

    __slots__ = ("status_code", "headers", "content")

    def __init__(self, status_code: int, headers: ReplyHeaders, content: bytes):
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        import json

        return json.loads(self.content)


class DirectClient:
    """POSTs to one plain-http URL with a request head built once (method line, host, headers with the key,
    content type): per request only the Content-Length and the body are added, then bytes go over a pooled
    keep-alive connection. No URL parsing, header merging or cookie jar per request: that work dominated a
    fast local audit (docs/runner.md). Failures are this module's exceptions (``TransportError``)."""

    def __init__(self, url: str, headers: dict[str, str], connect_timeout: float | None,
                 read_timeout: float | None) -> None:
        self.host, self.port, target, self._host_line = _split_url(url)  # once
        lines = []
        for name, value in headers.items():
            if name.lower() in ("host", "content-length", "transfer-encoding", "accept-encoding", "connection"):
                continue
            if not (value.isascii() and value.isprintable() and name.isascii() and name.isprintable()):
                raise ValueError(f"header {name!r} cannot be sent as it is")  # never the value: it may be a key
            lines.append(f"{name}: {value}")
        self._headers = [*lines, "Accept: */*", "Accept-Encoding: identity"]
        self._head = "\r\n".join([f"POST {target} HTTP/1.1", self._host_line, *self._headers,
                                   "Content-Length: "]).encode("latin-1")
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._pool = ConnectionPool()

    def __repr__(self) -> str:  # never the head: it holds the key
        return f"DirectClient({self.host}:{self.port})"

    async def post(self, body: bytes) -> DirectReply:
        data = b"".join((self._head, str(len(body)).encode(), b"\r\n\r\n", body))
        status, headers, content = await self._pool.exchange(self.host, self.port, data, "POST",
                                                             self.connect_timeout, self.read_timeout)
        return DirectReply(status, ReplyHeaders((n.lower(), v) for n, v in headers), content)

    async def get(self, url: str, timeout: float | None = None) -> DirectReply:
        """One GET (a start-up probe such as ``/models``) to the same host, with the same headers."""
        host, port, target, host_line = _split_url(url)
        if (host, port) != (self.host, self.port):
            raise ValueError(f"DirectClient serves {self.host}:{self.port} only")
        data = "\r\n".join([f"GET {target} HTTP/1.1", host_line, *self._headers, "", ""]).encode("latin-1")
        read = self.read_timeout if timeout is None else timeout
        connect = self.connect_timeout if timeout is None or self.connect_timeout is None else min(
            timeout, self.connect_timeout)
        status, headers, content = await self._pool.exchange(self.host, self.port, data, "GET", connect, read)
        return DirectReply(status, ReplyHeaders((n.lower(), v) for n, v in headers), content)

    async def aclose(self) -> None:
        self._pool.close()


def _split_url(url: str) -> tuple[str, int, str, str]:
    """(host, port, request target, Host header line) of a plain-http URL, as httpx would send them."""
    parts = urlsplit(url)
    if parts.scheme != "http":
        raise ValueError(f"DirectClient serves http:// only, not {parts.scheme}://")
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in {parts.scheme}:// URL")
    port = parts.port or 80
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    if parts.query:
        target += "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    name = f"[{host}]" if ":" in host else host  # an IPv6 literal is bracketed
    return host, port, target, (f"Host: {name}:{port}" if parts.port not in (None, 80) else f"Host: {name}")


async def _exchange(conn: _Conn, data: bytes, method: str, read_timeout: float | None):
    conn.writer.write(data)
    await conn.writer.drain()
    async with asyncio.timeout(read_timeout):
        raw_head = await conn.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = raw_head[:-4].decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
            raise ConnectionError("malformed status line")
        status = int(parts[1])
        headers: list[tuple[str, str]] = []
        length: int | None = None
        chunked = False
        close = parts[0] == "HTTP/1.0"
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip(), value.strip()
            headers.append((name, value))
            lower = name.lower()
            if lower == "content-length":
                length = int(value)
            elif lower == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif lower == "connection":
                close = value.lower() == "close" or (close and value.lower() != "keep-alive")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            content = b""
        elif chunked:
            content = await _read_chunked(conn.reader)
        elif length is not None:
            if length > MAX_BODY:
                raise ConnectionError("response body too large")
            content = await conn.reader.readexactly(length)
        else:
            content = await conn.reader.read(MAX_BODY)
            close = True
    # The body is already decoded on the wire (chunks joined): drop framing headers a client would re-apply.
    headers = [(n, v) for n, v in headers if n.lower() != "transfer-encoding"]
    return status, headers, content, not close


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return bytes(out)
        if len(out) + size > MAX_BODY:
            raise ConnectionError("response body too large")
        out += await reader.readexactly(size)
        await reader.readexactly(2)
