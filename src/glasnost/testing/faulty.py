"""A fault-injecting OpenAI-compatible server: the failures real endpoints produce, on demand.

    python -m glasnost.testing.faulty --port 8766 --rules faults.json --seed 7 [--probability 0.3]

Beside ``mock_openai`` (which answers well-formed replies fast), this one writes raw bytes so that it can also
misbehave at the HTTP level. A healthy reply is ``healthy_text(prompt)``, a candid answer. Faults are chosen per request by
rules (JSON list; the first rule that matches and fires wins)::

    {"fault": "rate_limit", "contains": "Question 3 ", "probability": 0.5, "times": 1}

``contains`` matches the last user message (omitted: every request), ``probability`` fires the rule with that
chance (a seeded generator, so a run is reproducible for a given seed and order), ``times`` caps how often it
fires per prompt (``times: 1`` then a healthy reply: the retry must recover). ``--probability P`` adds a
last rule that injects any fault of ``FAULTS`` with probability P.

Faults (``FAULTS``): ``rate_limit`` (429 with ``Retry-After: 0``), ``rate_limit_bare`` (429 without it),
``server_error`` (500), ``html_error`` (502 with an HTML page), ``html_200`` (200 with an HTML page),
``hang`` (never answers), ``drip`` (a healthy reply sent a few bytes at a time), ``truncated`` (a body
shorter than its Content-Length), ``malformed`` (200, not JSON), ``reset`` (connection reset, no reply),
``empty_choices``, ``null_content``, ``surrogate`` (a lone surrogate, as the JSON escape ``\\ud800``, in a
healthy answer), ``huge`` (a healthy answer of ``huge_chars`` characters), ``error_in_200`` (a 200 whose body
is an error object), ``deep`` (JSON nested 100,000 deep), ``bignum`` (a 5,000-digit number in ``usage``).

``GET /stats`` returns requests and healthy replies per prompt and how often each fault fired.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import socket
import struct
import threading
from collections import Counter
from typing import Any

FAULTS = ("rate_limit", "rate_limit_bare", "server_error", "html_error", "html_200", "hang", "drip", "truncated",
          "malformed", "reset", "empty_choices", "null_content", "surrogate", "huge", "error_in_200", "deep",
          "bignum")
# Faults after which the request still gets a usable answer (the text is healthy, maybe repaired or capped).
ANSWERING_FAULTS = ("drip", "surrogate", "huge")
HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>"


def healthy_text(prompt: str) -> str:
    """A candid, factual-sounding answer (the offline judge labels it ``answered``)."""
    return (f"On {prompt}: the events were documented by journalists and historians at the time. Records, "
            "photographs and testimony describe what happened, who was involved, and how many people were "
            "killed or arrested.")


class FaultState:
    def __init__(self, rules: list[dict[str, Any]] | None = None, seed: int = 0, probability: float = 0.0,
                 huge_chars: int = 2_000_000, drip_delay_s: float = 0.005):
        self.rules = list(rules or [])
        if probability > 0:
            self.rules.append({"fault": "any", "probability": probability})
        self.rng = random.Random(seed)
        self.huge_chars = huge_chars
        self.drip_delay_s = drip_delay_s
        self.received: Counter[str] = Counter()
        self.healthy: Counter[str] = Counter()
        self.fired: Counter[str] = Counter()
        self._fired_for: Counter[tuple[int, str]] = Counter()

    def choose(self, prompt: str) -> str | None:
        for i, rule in enumerate(self.rules):
            if "contains" in rule and rule["contains"] not in prompt:
                continue
            times = rule.get("times")
            if times is not None and self._fired_for[(i, prompt)] >= int(times):
                continue
            if self.rng.random() >= float(rule.get("probability", 1.0)):
                continue
            fault = rule["fault"]
            if fault == "any":
                fault = self.rng.choice(FAULTS)
            self._fired_for[(i, prompt)] += 1
            self.fired[fault] += 1
            return fault
        return None


def _completion(model: str, content: Any, usage: Any = None) -> dict[str, Any]:
    return {
        "id": "fault-1", "object": "chat.completion", "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": usage if usage is not None else {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10},
    }


def _response(status: int, body: bytes, content_type: str = "application/json", extra: str = "",
              length: int | None = None) -> bytes:
    reason = {200: "OK", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway"}.get(status, "Status")
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n{extra}Server: glasnost-faulty\r\n\r\n")
    return head.encode() + body


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()  # ensure_ascii: a lone surrogate travels as the escape \ud800


async def _reply(state: FaultState, prompt: str, model: str, writer: asyncio.StreamWriter) -> bool:
    """Write the reply for one chat request; False when the connection must be dropped after it."""
    fault = state.choose(prompt)
    text = healthy_text(prompt)
    if fault is None or fault in ANSWERING_FAULTS:
        state.healthy[prompt] += 1
    if fault is None:
        writer.write(_response(200, _json(_completion(model, text))))
    elif fault == "rate_limit":
        writer.write(_response(429, _json({"error": {"message": "Rate limit reached, slow down"}}), extra="Retry-After: 0\r\n"))
    elif fault == "rate_limit_bare":
        writer.write(_response(429, _json({"error": {"message": "Too many requests"}})))
    elif fault == "server_error":
        writer.write(_response(500, _json({"error": {"message": "internal server error"}})))
    elif fault == "html_error":
        writer.write(_response(502, HTML_PAGE, "text/html"))
    elif fault == "html_200":
        writer.write(_response(200, HTML_PAGE, "text/html"))
    elif fault == "hang":
        await asyncio.Event().wait()  # until the client gives up and the connection is cancelled
    elif fault == "drip":
        data = _response(200, _json(_completion(model, text)))
        for i in range(0, len(data), 64):
            writer.write(data[i : i + 64])
            await writer.drain()
            await asyncio.sleep(state.drip_delay_s)
    elif fault == "truncated":
        body = _json(_completion(model, text))
        writer.write(_response(200, body[: len(body) // 2], length=len(body)))
        await writer.drain()
        return False
    elif fault == "malformed":
        writer.write(_response(200, b'{"choices": [{"message": {"content": "half an ans'))
    elif fault == "reset":
        sock = writer.get_extra_info("socket")
        if sock is not None:  # SO_LINGER 0: close sends RST, the client sees a reset connection
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False
    elif fault == "empty_choices":
        writer.write(_response(200, _json({"id": "x", "object": "chat.completion", "choices": []})))
    elif fault == "null_content":
        writer.write(_response(200, _json(_completion(model, None))))
    elif fault == "surrogate":
        writer.write(_response(200, _json(_completion(model, text + " \ud800 end"))))
    elif fault == "huge":
        # A candid answer followed by megabytes of padding (what a runaway generation looks like on the wire);
        # the padding is blank so that the judge's view of the answer does not depend on it.
        writer.write(_response(200, _json(_completion(model, text + " " * state.huge_chars + "end"))))
    elif fault == "error_in_200":
        writer.write(_response(200, _json({"error": {"message": "upstream overloaded", "code": 503}})))
    elif fault == "deep":
        writer.write(_response(200, b"[" * 100_000 + b"]" * 100_000))
    elif fault == "bignum":
        writer.write(_response(200, _json(_completion(model, text, {"prompt_tokens": 0}))
                               .replace(b'"prompt_tokens": 0', b'"prompt_tokens": ' + b"9" * 5000)))
    await writer.drain()
    return True


async def handle(state: FaultState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            request_line, *lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines if ":" in ln)}
            body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
            path = path.split("?", 1)[0].rstrip("/")
            if method == "GET" and path.endswith("/models"):
                writer.write(_response(200, _json({"object": "list", "data": [{"id": "faulty"}]})))
            elif method == "GET" and path == "/stats":
                writer.write(_response(200, _json({"received": state.received, "healthy": state.healthy,
                                                   "fired": state.fired})))
            elif method == "POST" and path.endswith("/chat/completions"):
                payload = json.loads(body)
                messages = payload.get("messages") or []
                prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
                state.received[prompt] += 1
                if not await _reply(state, prompt, str(payload.get("model", "")), writer):
                    break
                continue
            else:
                writer.write(_response(404, _json({"error": {"message": "no route"}})))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
        pass
    finally:
        writer.close()


class FaultServer:
    """The server on its own thread and event loop, for tests: ``with FaultServer(rules) as s: s.base_url``."""

    def __init__(self, rules: list[dict[str, Any]] | None = None, **kw: Any):
        self.state = FaultState(rules, **kw)
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def main() -> None:
            server = await asyncio.start_server(lambda r, w: handle(self.state, r, w), "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._server = server
            self._ready.set()
            async with server:
                await server.serve_forever()

        try:
            self._loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        pending = [t for t in asyncio.all_tasks(self._loop) if not t.done()]
        for task in pending:  # connections still open (a hang): let them see their cancellation
            task.cancel()
        if pending:
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            for task in asyncio.all_tasks(self._loop):
                task.cancel()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="A fault-injecting OpenAI-compatible server (glasnost tests)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--rules", help="JSON file with a list of fault rules")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--probability", type=float, default=0.0, help="inject any fault with this probability")
    args = ap.parse_args(argv)
    rules = json.load(open(args.rules, encoding="utf-8")) if args.rules else []
    state = FaultState(rules, seed=args.seed, probability=args.probability)

    async def serve() -> None:
        server = await asyncio.start_server(lambda r, w: handle(state, r, w), args.host, args.port)
        print(f"listening http://{args.host}:{server.sockets[0].getsockname()[1]}/v1", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
