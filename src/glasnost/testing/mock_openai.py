"""A small, fast OpenAI-compatible mock server for tests, benchmarks and demos (no model needed).

    python -m glasnost.testing.mock_openai --port 8765 --latency-ms 200 [--rules rules.json] [--hang-after N]

It speaks just enough HTTP/1.1 (keep-alive, Content-Length) for /v1/chat/completions, /v1/models and
/stats, on raw asyncio streams so that it can serve thousands of requests per second from one core.

Behaviour comes from rules (JSON list, first match wins), each with optional matchers ``model`` (exact),
``contains`` (substring of the last user message) and ``probability`` (the rule applies to that share of
requests, drawn per request: a server that fails 30 % of the time) and a reply: ``text`` (``{prompt}`` and ``{model}``
are substituted), ``reasoning``, ``finish_reason``, ``refusal``, ``logprobs`` (the choice's ``logprobs``
object, returned when the request asks for logprobs), or ``status`` + ``body`` for an HTTP error.
``echo_headers: true`` copies the request's headers (a dict) into the reply: into ``error.message`` of an
HTTP error body, and into ``{headers}`` in ``text`` (a careless proxy that echoes the ``Authorization``
header back, for the tests that make sure no key is ever kept). ``delay_ms`` holds that reply back (to make
a client time out on one prompt). ``{key_prefix}`` in ``text`` is the bearer token without its last ``key_cut``
characters (default 4): a server that echoes most of the key back.
Without a matching rule it answers ``Mock answer from {model}: {prompt}``.

``/stats`` returns how often each prompt was received and answered. ``--hang-after N`` answers N
requests and then holds every later one open without answering (to kill a client mid-run); POST
``/control`` with ``{"hang_after": null}`` (or ``latency_ms``, ``rules``) changes behaviour between phases.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from collections import Counter
from typing import Any

Rule = dict[str, Any]


class MockState:
    def __init__(self, rules: list[Rule] | None = None, latency_ms: float = 0.0, hang_after: int | None = None):
        self.rules = rules or []
        self.latency = latency_ms / 1000.0
        self.hang_after = hang_after
        self.received: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.total_answered = 0

    def delay(self, payload: dict[str, Any]) -> float:
        """Extra seconds before answering (a rule's ``delay_ms``: a slow answer, for client timeouts)."""
        model = str(payload.get("model", ""))
        messages = payload.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        rule = next((r for r in self.rules if _matches(r, model, prompt)), {})
        return float(rule.get("delay_ms", 0)) / 1000.0

    def reply(self, payload: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        model = str(payload.get("model", ""))
        messages = payload.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        rule = next((r for r in self.rules if _matches(r, model, prompt)), {})
        echoed = json.dumps(headers or {}) if rule.get("echo_headers") else ""
        if "status" in rule:
            body = rule.get("body") or {"error": {"message": "mock error"}}
            if echoed:
                body = {**body, "error": {"message": f"bad request, you sent {echoed}", "headers": headers}}
            return int(rule["status"]), body
        text = rule.get("text", "Mock answer from {model}: {prompt}")
        if text is not None:
            text = text.replace("{prompt}", prompt).replace("{model}", model).replace("{headers}", echoed)
            if "{key_prefix}" in text:  # most of the key, not all of it (a plain search for the key misses it)
                token = (headers or {}).get("authorization", "").removeprefix("Bearer ")
                text = text.replace("{key_prefix}", token[: max(len(token) - int(rule.get("key_cut", 4)), 0)])
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if "reasoning" in rule:
            message["reasoning_content"] = rule["reasoning"]
        if "refusal" in rule:
            message["refusal"] = rule["refusal"]
        body = {
            "id": f"mock-{self.total_answered}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": rule.get("finish_reason", "stop"),
                         **({"logprobs": rule["logprobs"]} if "logprobs" in rule and payload.get("logprobs") else {})}],
            "usage": {"prompt_tokens": len(prompt) // 4 + 1, "completion_tokens": len(text or "") // 4 + 1,
                      "total_tokens": (len(prompt) + len(text or "")) // 4 + 2},
        }
        return 200, body


def _matches(rule: Rule, model: str, prompt: str) -> bool:
    if "model" in rule and rule["model"] != model:
        return False
    if "contains" in rule and rule["contains"] not in prompt:
        return False
    if "probability" in rule and random.random() >= float(rule["probability"]):
        return False
    return True


REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           429: "Too Many Requests", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
           503: "Service Unavailable"}


async def handle(state: MockState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            length = int(headers.get("content-length", "0") or 0)
            body = await reader.readexactly(length) if length else b""
            status, payload = await route(state, method, path, body, headers)
            data = json.dumps(payload).encode()
            writer.write(
                f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\nServer: glasnost-mock\r\n\r\n".encode() + data
            )
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass
    finally:
        writer.close()


async def route(state: MockState, method: str, path: str, body: bytes,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    path = path.split("?", 1)[0].rstrip("/")
    if method == "GET" and path.endswith("/models"):
        return 200, {"object": "list", "data": [{"id": "mock", "object": "model"}]}
    if method == "GET" and path == "/stats":
        return 200, {"received": state.received, "answered": state.answered, "total_answered": state.total_answered}
    if method == "POST" and path == "/control":  # tests change behaviour between phases
        try:
            update = json.loads(body)
        except ValueError:
            return 400, {"error": {"message": "invalid JSON"}}
        if "hang_after" in update:
            state.hang_after = update["hang_after"]
        if "latency_ms" in update:
            state.latency = float(update["latency_ms"]) / 1000.0
        if "rules" in update:
            state.rules = list(update["rules"])
        return 200, {"ok": True}
    if method == "POST" and path.endswith("/chat/completions"):
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": {"message": "invalid JSON"}}
        messages = payload.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        state.received[prompt] += 1
        if state.hang_after is not None and state.total_answered >= state.hang_after:
            await asyncio.Event().wait()  # hold the request open until the client goes away
        if state.latency:
            await asyncio.sleep(state.latency)
        if state.delay(payload):
            await asyncio.sleep(state.delay(payload))
        status, reply = state.reply(payload, headers)
        state.answered[prompt] += 1
        state.total_answered += 1
        return status, reply
    return 404, {"error": {"message": f"no route {method} {path}"}}


async def serve(state: MockState, host: str = "127.0.0.1", port: int = 0, ready=None) -> None:
    server = await asyncio.start_server(lambda r, w: handle(state, r, w), host, port, backlog=1024)
    if ready is not None:
        ready(server.sockets[0].getsockname()[1])
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="OpenAI-compatible mock server (glasnost tests and benchmarks)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--rules", help="JSON file with a list of rules")
    ap.add_argument("--hang-after", type=int, default=None)
    args = ap.parse_args(argv)
    rules = json.load(open(args.rules, encoding="utf-8")) if args.rules else []
    state = MockState(rules, args.latency_ms, args.hang_after)

    def ready(port: int) -> None:
        print(f"listening http://{args.host}:{port}/v1", flush=True)

    try:
        asyncio.run(serve(state, args.host, args.port, ready))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
