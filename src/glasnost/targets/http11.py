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
"""

from __future__ import annotations

import asyncio
from collections import deque

import httpx

MAX_HEAD = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
MAX_IDLE_PER_HOST = 1024


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
                       read_timeout: float | None, request: httpx.Request | None = None):
        """(status, headers, content) of one request (``data``: head and body). Failures are raised as httpx's
        exceptions, so callers handle both paths alike."""
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
                raise httpx.RemoteProtocolError(f"connection lost: {type(exc).__name__}", request=request) from None
            except TimeoutError:
                conn.close()
                raise httpx.ReadTimeout("timed out waiting for the response", request=request) from None
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
            raise httpx.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        return _Conn(reader, writer)

    def close(self) -> None:
        for pool in self._idle.values():
            while pool:
                pool.pop().close()


class HTTP11Transport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._pool = ConnectionPool()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"HTTP11Transport serves http:// only, not {request.url.scheme}://")
        timeouts = request.extensions.get("timeout", {})
        host = request.url.host
        port = request.url.port or 80
        body = request.content  # httpx has already encoded json= / content= into bytes
        head = _request_head(request, host, port, len(body))
        status, headers, content = await self._pool.exchange(host, port, head + body, request.method,
                                                             timeouts.get("connect"), timeouts.get("read"), request)
        return httpx.Response(status, headers=headers, content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1"})

    async def aclose(self) -> None:
        self._pool.close()


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


class DirectClient:
    """POSTs to one plain-http URL with a request head built once (method line, host, headers with the key,
    content type): per request only the Content-Length and the body are added, then bytes go over a pooled
    keep-alive connection. No URL parsing, header merging or cookie jar per request: that work dominated a
    fast local audit (docs/runner.md). Failures are httpx's exceptions, as on the httpx path."""

    def __init__(self, url: str, headers: dict[str, str], connect_timeout: float | None,
                 read_timeout: float | None) -> None:
        parsed = httpx.URL(url)  # once
        if parsed.scheme != "http":
            raise ValueError(f"DirectClient serves http:// only, not {parsed.scheme}://")
        self.host = parsed.host
        self.port = parsed.port or 80
        target = parsed.raw_path.decode("ascii")
        name = f"[{self.host}]" if ":" in self.host else self.host  # an IPv6 literal is bracketed
        lines = [f"POST {target} HTTP/1.1",
                 f"Host: {name}:{self.port}" if parsed.port not in (None, 80) else f"Host: {name}"]
        for name, value in headers.items():
            if name.lower() in ("host", "content-length", "transfer-encoding", "accept-encoding", "connection"):
                continue
            if not (value.isascii() and value.isprintable() and name.isascii() and name.isprintable()):
                raise ValueError(f"header {name!r} cannot be sent as it is")  # never the value: it may be a key
            lines.append(f"{name}: {value}")
        lines += ["Accept: */*", "Accept-Encoding: identity", "Content-Length: "]
        self._head = "\r\n".join(lines).encode("latin-1")
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

    async def aclose(self) -> None:
        self._pool.close()


def _request_head(request: httpx.Request, host: str, port: int, length: int) -> bytes:
    target = request.url.raw_path.decode("ascii")
    lines = [f"{request.method} {target} HTTP/1.1", f"Host: {host}:{port}" if port != 80 else f"Host: {host}"]
    for name, value in request.headers.items():
        lower = name.lower()
        if lower in ("host", "content-length", "transfer-encoding", "accept-encoding", "connection"):
            continue
        lines.append(f"{name}: {value}")
    lines.append("Accept-Encoding: identity")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


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
    # The body is already decoded on the wire (chunks joined): drop framing headers httpx would re-apply.
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
