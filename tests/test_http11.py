"""The lean HTTP/1.1 transport: framing, keep-alive reuse, stale connections, errors."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from glasnost.targets.http11 import HTTP11Transport


async def _serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def _read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


async def test_content_length_chunked_and_keepalive_reuse():
    connections = []

    async def handler(reader, writer):
        connections.append(writer)
        try:
            while True:
                head, body = await _read_request(reader)
                if b"/chunked" in head:
                    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                                 b"5\r\n{\"a\":\r\n3;ext=1\r\n 1}\r\n0\r\n\r\n")
                else:
                    data = b'{"echo": ' + (body or b'""') + b"}"
                    writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: %d\r\n\r\n%s" % (len(data), data))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    server, port = await _serve(handler)
    async with httpx.AsyncClient(transport=HTTP11Transport(), base_url=f"http://127.0.0.1:{port}") as client:
        r1 = await client.post("/x", json={"q": "价格"})
        assert r1.status_code == 201 and r1.json() == {"echo": {"q": "价格"}}
        r2 = await client.get("/chunked")
        assert r2.status_code == 200 and r2.json() == {"a": 1}
        r3 = await client.post("/x", content=b"7")
        assert r3.json() == {"echo": 7}
    assert len(connections) == 1  # one keep-alive connection served all three
    server.close()


async def test_stale_keepalive_connection_is_replaced_once():
    served = []

    async def handler(reader, writer):
        await _read_request(reader)
        served.append(1)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # the server drops keep-alive without saying so

    server, port = await _serve(handler)
    async with httpx.AsyncClient(transport=HTTP11Transport(), base_url=f"http://127.0.0.1:{port}") as client:
        assert (await client.get("/a")).text == "ok"
        await asyncio.sleep(0.05)
        assert (await client.get("/b")).text == "ok"
    assert len(served) == 2
    server.close()


async def test_errors_map_to_httpx_exceptions():
    async def silent(reader, writer):
        await _read_request(reader)
        await asyncio.sleep(5)

    server, port = await _serve(silent)
    async with httpx.AsyncClient(transport=HTTP11Transport(), timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(f"http://127.0.0.1:{port}/slow")
        with pytest.raises(httpx.ConnectError):
            await client.get("http://127.0.0.1:9/nothing-listens-here")
        with pytest.raises(httpx.UnsupportedProtocol):
            await client.get("https://127.0.0.1:9/")
    server.close()
