"""The lean HTTP/1.1 wire of ``http11`` as an httpx transport (for an ``httpx.AsyncClient``): requests,
responses, timeouts and httpx's own exceptions, with ``http11.ConnectionPool`` underneath. A separate module so
that ``http11`` (the direct client of plain-http runs) never imports httpx.
"""

from __future__ import annotations

import httpx

from glasnost.targets import http11

_AS_HTTPX: dict[type, type] = {
    http11.ReadTimeout: httpx.ReadTimeout,
    http11.ConnectTimeout: httpx.ConnectTimeout,
    http11.ConnectError: httpx.ConnectError,
    http11.RemoteProtocolError: httpx.RemoteProtocolError,
}


class HTTP11Transport(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._pool = http11.ConnectionPool()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"HTTP11Transport serves http:// only, not {request.url.scheme}://")
        timeouts = request.extensions.get("timeout", {})
        host = request.url.host
        port = request.url.port or 80
        body = request.content  # httpx has already encoded json= / content= into bytes
        head = _request_head(request, host, port, len(body))
        try:
            status, headers, content = await self._pool.exchange(host, port, head + body, request.method,
                                                                 timeouts.get("connect"), timeouts.get("read"))
        except http11.TransportError as exc:
            raise _AS_HTTPX.get(type(exc), httpx.TransportError)(str(exc), request=request) from None
        return httpx.Response(status, headers=headers, content=content, request=request,
                              extensions={"http_version": b"HTTP/1.1"})

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
