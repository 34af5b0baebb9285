"""The direct request path of openai-compat targets on plain http: head built once, bytes over keep-alive."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from glasnost.records import Outcome, TransportConfig
from glasnost.targets.base import ChatRequest, build_messages
from glasnost.targets import http11
from glasnost.targets.http11 import DirectClient
from glasnost.targets.openai_compat import OpenAICompatTarget
from glasnost.targets.spec import parse_target


async def _serve(handler):
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def _reply(status: int, obj, extra: str = "") -> bytes:
    data = json.dumps(obj).encode()
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {len(data)}\r\n\r\n"
            .encode() + data)


def _ok(text: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}


async def test_requests_carry_the_key_and_body_and_reuse_one_connection():
    heads, bodies, connections = [], [], []

    async def handler(reader, writer):
        connections.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                heads.append(head.decode())
                bodies.append(json.loads(await reader.readexactly(length)))
                writer.write(_reply(200, _ok(f"answer {len(bodies)}")))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    server, port = await _serve(handler)
    spec = parse_target(f"openai-compat:http://127.0.0.1:{port}/v1#m?key_env=DIRECT_KEY")
    target = OpenAICompatTarget(spec, TransportConfig(concurrency=2), environ={"DIRECT_KEY": "sk-direct-123456789"})
    target._open()
    assert isinstance(target._direct, DirectClient)
    assert "sk-direct" not in repr(target._direct)
    first = await target.generate(ChatRequest(messages=build_messages("价格?")))
    second = await target.generate(ChatRequest(messages=build_messages("second")))
    await target.aclose()
    server.close()
    assert (first.outcome, first.text, second.text) == (Outcome.ok, "answer 1", "answer 2")
    assert heads[0].startswith("POST /v1/chat/completions HTTP/1.1\r\n")
    assert f"Host: 127.0.0.1:{port}\r\n" in heads[0]
    assert "authorization: Bearer sk-direct-123456789\r\n" in heads[0]
    assert "content-type: application/json\r\n" in heads[0]
    assert bodies[0]["messages"][-1]["content"] == "价格?" and bodies[1]["messages"][-1]["content"] == "second"
    assert len(connections) == 1


async def test_retry_after_is_honoured_and_an_echoed_key_is_redacted_on_the_direct_path():
    calls = []

    async def handler(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"GET"):  # start()'s probe of /models
                    writer.write(_reply(404, {"error": "no list"}))
                    continue
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                await reader.readexactly(length)
                calls.append(1)
                if len(calls) == 1:
                    writer.write(_reply(429, {"error": {"message": "slow down"}}, "Retry-After: 7\r\n"))
                else:
                    writer.write(_reply(200, _ok("the key is sk-direct-123456789")))
                await writer.drain()
        except asyncio.IncompleteReadError:
            writer.close()

    server, port = await _serve(handler)
    slept = []

    async def sleep(s):
        slept.append(s)

    spec = parse_target(f"openai-compat:http://127.0.0.1:{port}/v1#m?key_env=DIRECT_KEY")
    target = OpenAICompatTarget(spec, TransportConfig(), environ={"DIRECT_KEY": "sk-direct-123456789"}, sleep=sleep)
    await target.start()
    assert target._direct is not None
    c = await target.generate(ChatRequest(messages=build_messages("q")))
    await target.aclose()
    server.close()
    assert slept == [7.0] and c.retries == 1
    assert c.outcome is Outcome.ok and "sk-direct-123456789" not in (c.text or "") + (c.raw or "")


async def test_proxy_and_https_keep_httpx():
    for spec, environ in (("openai-compat:https://api.example/v1#m", {}),
                          ("vllm:m", {"HTTP_PROXY": "http://proxy:3128"})):
        target = OpenAICompatTarget(parse_target(spec), TransportConfig(), environ=environ)
        target._open()
        assert target._direct is None
        await target.aclose()


async def test_a_timeout_and_a_refused_connection_are_transport_errors_named_as_httpx_names_them():
    async def silent(reader, writer):
        await asyncio.sleep(5)

    server, port = await _serve(silent)
    client = DirectClient(f"http://127.0.0.1:{port}/v1/chat/completions", {}, 1.0, 0.2)
    with pytest.raises(http11.ReadTimeout):
        await client.post(b"{}")
    server.close()
    await server.wait_closed()
    await client.aclose()
    with pytest.raises(http11.ConnectError) as refused:
        await DirectClient(f"http://127.0.0.1:{port}/v1/chat/completions", {}, 1.0, 0.2).post(b"{}")
    assert isinstance(refused.value, http11.TransportError) and type(refused.value).__name__ == "ConnectError"


def test_the_direct_path_does_not_import_httpx():
    """A run against a local server never pays for importing httpx (issue 17: start-up)."""
    import subprocess
    import sys

    code = ("import sys; from glasnost.targets.openai_compat import OpenAICompatTarget; "
            "from glasnost.targets.spec import parse_target; from glasnost.records import TransportConfig; "
            "t = OpenAICompatTarget(parse_target('openai-compat:http://127.0.0.1:9/v1#m'), TransportConfig(), "
            "environ={}); t._open(); assert t._direct is not None; print('httpx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_an_unreachable_endpoint_is_fatal_at_start_and_a_listing_is_read_on_the_direct_path():
    import socket

    from glasnost.errors import TargetFatal

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = OpenAICompatTarget(parse_target(f"openai-compat:http://127.0.0.1:{port}/v1#m"), TransportConfig(),
                                environ={})
    with pytest.raises(TargetFatal, match=r"cannot reach .* \(ConnectError\)"):
        await target.start()
    await target.aclose()

    async def lists(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"GET /v1/models HTTP/1.1\r\n") and b"authorization: Bearer sk-list-123456789" in head
        writer.write(_reply(200, {"data": [{"id": "m", "revision": "r7"}]}, "Server: mock\r\n"))
        await writer.drain()

    server, port = await _serve(lists)
    spec = parse_target(f"openai-compat:http://127.0.0.1:{port}/v1#m?key_env=LIST_KEY")
    target = OpenAICompatTarget(spec, TransportConfig(), environ={"LIST_KEY": "sk-list-123456789"})
    runtime = await target.start()
    await target.aclose()
    server.close()
    assert target._client is None  # httpx was never used
    assert (runtime.server, runtime.revision, runtime.extra["model_listed"]) == ("mock", "r7", True)


def test_the_head_is_built_once_with_the_host_as_http_wants_it():
    head = DirectClient("http://[::1]:8000/v1/chat/completions", {"content-type": "application/json"}, 1, 1)._head
    assert head.startswith(b"POST /v1/chat/completions HTTP/1.1\r\nHost: [::1]:8000\r\n")
    assert DirectClient("http://example.test/v1/x", {}, 1, 1)._head.split(b"\r\n")[1] == b"Host: example.test"
    with pytest.raises(ValueError):  # a header that could smuggle another line is refused, its value unshown
        DirectClient("http://example.test/v1/x", {"authorization": "Bearer a\r\nX-Evil: 1"}, 1, 1)
