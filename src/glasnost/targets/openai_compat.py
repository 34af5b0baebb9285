"""One async adapter for every OpenAI-compatible ``/chat/completions`` endpoint.

Hosted APIs (OpenAI, DeepSeek, OpenRouter, ...) and local servers (Ollama, vLLM, llama.cpp, transformers
serve) all go through here. One ``httpx.AsyncClient`` per target, sized for the runner's concurrency; the hot
path builds one dict, sends bytes, parses one JSON body and fills one Completion.

What a reply means (see retry.py for the status table and docs/targets.md):
- ``finish_reason: content_filter``, a non-empty ``refusal``, or an HTTP policy error -> ``blocked`` (kept
  with status and trimmed raw body; never retried);
- ``finish_reason: length`` -> ``truncated``; no answer text and no block -> ``empty``;
- 429 / 5xx / timeouts / dropped connections -> retried, then ``error`` with one line;
- bad key, exhausted quota, unknown model -> ``TargetFatal`` (the run stops).

The API key is read from its environment variable at start and lives only in the client's headers; every
text we keep or raise is passed through ``_redact`` in case a server echoes it back.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping

from glasnost import __version__
from glasnost.errors import ConfigError, TargetFatal
from glasnost.records import Completion, Outcome, TargetRuntime, TargetSpec, TransportConfig, Usage, trim_raw
from glasnost.redact import known_secrets, mentions, remember, scrub, scrub_value
from glasnost.targets.base import ChatRequest
from glasnost.targets import http11
from glasnost.targets.http11 import DirectClient
from glasnost.targets.retry import Decision, RetryBudget, classify, parse_retry_after
from glasnost.targets.spec import key_required, preset_for
from glasnost.reasoning import answer_outcome, split_reasoning
from glasnost.textsafe import safe_record

if TYPE_CHECKING:  # httpx is imported only where a request goes through it (https, a proxy, a test transport)
    import httpx

LOGPROB_TOKENS_KEPT = 64  # "top logprobs of the first tokens": enough for a refusal opener
PROBE_TIMEOUT_S = 10.0

Sleep = Callable[[float], Awaitable[Any]]


def one_line(text: str | None, limit: int = 300) -> str:
    """Provider text squeezed into one short line (error messages are shown to users as one line)."""
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_message(body: str | None) -> str:
    """The human part of an error body: ``error.message`` when it is JSON, else the text itself."""
    if not body:
        return ""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return one_line(body)
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            msg = err.get("message") or err.get("msg") or err.get("detail") or err.get("code")
            if msg is not None:
                return one_line(str(msg))
        elif isinstance(err, str):
            return one_line(err)
        if isinstance(data.get("detail"), str):
            return one_line(data["detail"])
    return one_line(body)


class OpenAICompatTarget:
    """A model behind an OpenAI-compatible endpoint."""

    # Every Completion ``generate`` returns has passed the text boundary once (textsafe.safe_record: repaired,
    # capped), and every string in it was taken from a reply body already scrubbed of each known secret
    # (``_redact_body``): the runner does not scan it a second time (run/execute.py).
    completions_at_boundary = True

    def __init__(
        self,
        spec: TargetSpec,
        transport: TransportConfig | None = None,
        *,
        http_transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        rng: random.Random | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if spec.kind != "openai-compat" or not spec.base_url:
            raise ConfigError(f"target {spec.id}: an openai-compat target needs a base_url")
        self.spec = spec
        self.transport = transport or TransportConfig()
        self._http_transport = http_transport  # tests inject httpx.MockTransport here
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()
        self._environ = environ if environ is not None else os.environ
        preset = preset_for(spec)
        self._preset = preset
        self._max_tokens_field = preset.max_tokens_field if preset else "max_tokens"
        self._base = spec.base_url.rstrip("/")
        self._url = self._base + "/chat/completions"
        self._client: httpx.AsyncClient | None = None
        self._direct: DirectClient | None = None  # plain http without a proxy: requests skip httpx (http11.py)
        self._secret: str | None = None
        # What a failed request raises, by path: http11's own exceptions, plus httpx's where httpx is used.
        self._timeouts: tuple[type[Exception], ...] = (http11.TimeoutException,)
        self._request_errors: tuple[type[Exception], ...] = (http11.TransportError,)
        self._connect_errors: tuple[type[Exception], ...] = http11.CONNECT_ERRORS

    def __repr__(self) -> str:  # never the key
        return f"OpenAICompatTarget({self.spec.id!r}, base_url={self._base!r})"

    # ---------------------------------------------------------------------------------------------------
    # lifecycle

    def _read_key(self) -> str | None:
        name = self.spec.api_key_env
        if not name:
            return None
        value = self._environ.get(name, "").strip()
        if not value and key_required(self.spec):
            raise ConfigError(
                f"target {self.spec.id} needs an API key: set the environment variable {name} "
                f"(e.g. `export {name}=...`); keys are never read from files or flags"
            )
        if value and not (value.isascii() and value.isprintable()):
            # A header cannot carry it (httpx would fail with a traceback, a raw transport could even be
            # made to send extra headers); the value itself is never shown.
            raise ConfigError(
                f"target {self.spec.id}: the API key in {name} contains characters an HTTP header cannot "
                "carry (non-ASCII, e.g. a curly quote from copy and paste, or a control character); set it again"
            )
        return value or None

    def _open(self) -> Any:
        """The client requests go through: the direct client (plain http, no proxy), else an httpx client."""
        if self._client is None and self._direct is None:
            self._secret = self._read_key()
            remember(self._secret)  # scrubbed from every record and message from now on
            headers = {"content-type": "application/json", "user-agent": f"glasnost/{__version__}"}
            if self._secret:
                headers["authorization"] = f"Bearer {self._secret}"
            # Plain-http servers (Ollama, vLLM, llama.cpp on this machine or the LAN) get the direct client
            # (http11.py: the request head, with the key, built once; httpx is not even imported); https APIs
            # get httpx's pools split small (pool.py); with a proxy in the environment, httpx's own pool
            # (which honours it). Waiting for a pooled connection is never a timeout (pool=None): the runner
            # already bounds concurrency.
            if (self._http_transport is None and not _proxy_in_env(self._environ)
                    and self._base.startswith("http://")):
                self._direct = DirectClient(self._url, headers, self.transport.connect_timeout_s,
                                            self.transport.timeout_s)
                return self._direct
            import httpx

            from glasnost.targets.pool import ShardedTransport

            size = max(self.transport.concurrency, 1) + 4
            transport = self._http_transport
            if transport is None and not _proxy_in_env(self._environ):
                transport = ShardedTransport(size)  # https here: plain http took the direct client above
            self._timeouts = (httpx.TimeoutException, http11.TimeoutException)
            self._request_errors = (httpx.RequestError, http11.TransportError)
            self._connect_errors = (httpx.ConnectError, httpx.ConnectTimeout, *http11.CONNECT_ERRORS)
            self._client = httpx.AsyncClient(
                headers=headers,
                timeout=httpx.Timeout(self.transport.timeout_s, connect=self.transport.connect_timeout_s, pool=None),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=transport,
            )
        return self._direct if self._direct is not None else self._client

    def _unreachable(self, exc: Exception) -> TargetFatal:
        if self._preset and self._preset.start_hint:
            hint = self._preset.start_hint
        elif self._base.startswith("http://127.") or self._base.startswith("http://localhost"):
            hint = "start the server there, or point the target at another URL"
        else:
            hint = "check the URL and the network"
        return TargetFatal(f"target {self.spec.id}: cannot reach {self._base} ({type(exc).__name__}); {hint}")

    async def start(self) -> TargetRuntime:
        """Read the key, open the client, and probe ``GET /models`` (best effort; unreachable is fatal)."""
        client = self._open()
        runtime = TargetRuntime(target_id=self.spec.id, revision=self.spec.revision)
        timeout = min(PROBE_TIMEOUT_S, self.transport.timeout_s)
        try:
            resp = await client.get(self._base + "/models", timeout=timeout)
        except self._connect_errors as exc:
            raise self._unreachable(exc) from None
        except self._request_errors:  # the endpoint may simply not list models; generation will tell
            return runtime
        runtime.server = resp.headers.get("server")
        if resp.status_code == 401:
            raise TargetFatal(self._fatal_line(401, resp.text))
        if resp.status_code == 200:
            self._read_model_list(resp, runtime)
        if self.spec.provider == "ollama" and runtime.revision is None:
            runtime.revision = await self._ollama_digest(client)
        return runtime

    def _read_model_list(self, resp: Any, runtime: TargetRuntime) -> None:
        try:
            data = resp.json()
        except ValueError:
            return
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return
        ids = [e.get("id") for e in entries if isinstance(e, dict)]
        runtime.extra["models_listed"] = len(ids)
        runtime.extra["model_listed"] = self.spec.model in ids
        entry = next((e for e in entries if isinstance(e, dict) and e.get("id") == self.spec.model), None)
        if entry and runtime.revision is None:
            rev = entry.get("revision") or entry.get("digest")
            runtime.revision = str(rev) if rev else None

    async def _ollama_digest(self, client: Any) -> str | None:
        """Ollama names the exact weights by digest in /api/tags: worth recording for host comparisons."""
        root = self._base[:-3] if self._base.endswith("/v1") else self._base
        try:
            resp = await client.get(root + "/api/tags", timeout=min(PROBE_TIMEOUT_S, self.transport.timeout_s))
            models = resp.json().get("models", []) if resp.status_code == 200 else []
        except (*self._request_errors, ValueError, AttributeError):
            return None
        wanted = {self.spec.model, self.spec.model + ":latest"}
        for m in models if isinstance(models, list) else []:
            if isinstance(m, dict) and (m.get("name") in wanted or m.get("model") in wanted):
                return str(m.get("digest")) if m.get("digest") else None
        return None

    async def aclose(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()
            self._direct = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # ---------------------------------------------------------------------------------------------------
    # requests

    def _redact(self, text: str | None) -> str | None:
        """Without the key or any 8+-character fragment of it, nor of any other secret the process knows
        (redact.scrub: a server that echoes most of the key back gets none of it stored)."""
        if not text:
            return text
        return scrub(text, [self._secret, *known_secrets()] if self._secret else known_secrets())

    def _redact_body(self, body: str) -> str:
        """A reply body without secrets, also where JSON escapes hide them from a plain search (PHP's ``\\/``,
        ``\\u0073k-...``): a JSON body is scrubbed in its parsed values and re-encoded only when that changed
        anything (so a scrub never breaks an escape); any other body is scrubbed as text."""
        secrets = [self._secret, *known_secrets()] if self._secret else known_secrets()
        if not secrets:
            return body
        if "\\" not in body:  # no escape can hide a secret: a text search decides
            return scrub(body, secrets) if mentions(body, secrets) else body
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return scrub(body, secrets) or body
        clean, changed = scrub_value(data, secrets)
        return json.dumps(clean, ensure_ascii=False) if changed else body

    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        g = request.generation
        payload: dict[str, Any] = {
            "model": self.spec.model,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": g.temperature,
            self._max_tokens_field: g.max_tokens,
        }
        if g.top_p is not None:
            payload["top_p"] = g.top_p
        if g.seed is not None:
            payload["seed"] = g.seed  # the runner already gives each sample its own seed
        if g.stop:
            payload["stop"] = g.stop
        if request.logprobs:
            payload["logprobs"] = True
            payload["top_logprobs"] = request.logprobs
        if request.json_schema is not None:
            schema = request.json_schema
            if not ("schema" in schema and "name" in schema):
                schema = {"name": "glasnost", "schema": schema, "strict": True}
            payload["response_format"] = {"type": "json_schema", "json_schema": schema}
        if g.extra:
            payload.update(g.extra)
        return payload

    def _fatal_line(self, status: int, body: str | None) -> str:
        detail = self._redact(error_message(body)) or "no detail"
        if status == 401 or status == 403:
            var = self.spec.api_key_env
            fix = f"check the key in {var}" if var else "this endpoint wants a key: add ?key_env=VARIABLE to the target"
            return f"target {self.spec.id}: HTTP {status} not authorised ({detail}); {fix}"
        if status in (402, 429):
            return f"target {self.spec.id}: quota or credit exhausted (HTTP {status}: {detail}); top up or wait, then run again to resume"
        if status == 404:
            return f"target {self.spec.id}: HTTP 404 at {self._url} ({detail}); check the model name and the base URL"
        return f"target {self.spec.id}: HTTP {status}: {detail}; check the model name and generation settings"

    async def generate(self, request: ChatRequest) -> Completion:
        # the text boundary, once for whatever comes back (answers, blocks, errors): surrogates/NULs repaired,
        # size capped
        return safe_record(await self._generate(request))

    async def _generate(self, request: ChatRequest) -> Completion:
        client = self._client or self._direct or self._open()
        direct = self._direct
        body = json.dumps(self._payload(request), ensure_ascii=False).encode("utf-8")
        budget = RetryBudget(self.transport, self._rng)
        while True:
            status: int | None = None
            raw: str | None = None
            retry_after: float | None = None
            started = time.perf_counter()
            try:
                # The same handling of whatever comes back, whichever path carried the bytes.
                resp = await (direct.post(body) if direct is not None else client.post(self._url, content=body))
            except self._timeouts as exc:
                decision, problem = Decision.TRANSIENT, f"timed out ({type(exc).__name__})"
            except self._request_errors as exc:  # refused, reset, protocol or decoding trouble
                decision, problem = Decision.TRANSIENT, f"connection failed ({type(exc).__name__})"
            else:
                status = resp.status_code
                # Parse the redacted text, so not even a server that echoes the key gets it into a record.
                raw = self._redact_body(resp.content.decode("utf-8", "replace"))
                latency_ms = (time.perf_counter() - started) * 1000.0
                if 200 <= status < 300:
                    result = self._parse_ok(raw, status, latency_ms, budget.retries)
                    if isinstance(result, Completion):
                        return result
                    decision, problem = result
                else:
                    decision = classify(status, raw)
                    problem = f"HTTP {status}: {self._redact(error_message(raw)) or 'no detail'}"
                if decision is Decision.BLOCKED:
                    return Completion(
                        outcome=Outcome.blocked, http_status=status, error=f"blocked by the provider: {problem}",
                        raw=trim_raw(raw), latency_ms=latency_ms, retries=budget.retries,
                    )
                if decision is Decision.FATAL:
                    raise TargetFatal(self._fatal_line(status, raw))
                if decision is Decision.REJECTED:
                    return Completion(
                        outcome=Outcome.error, http_status=status, error=f"request rejected: {problem}",
                        raw=trim_raw(raw), latency_ms=latency_ms, retries=budget.retries,
                    )
                if decision in (Decision.RATE_LIMIT, Decision.TRANSIENT):
                    retry_after = parse_retry_after(resp.headers)
            wait = budget.next_wait(decision, retry_after)
            if wait is None:
                return Completion(
                    outcome=Outcome.error, http_status=status, raw=trim_raw(raw), retries=budget.retries,
                    error=f"{problem}; gave up {budget.exhausted_reason(decision, retry_after)}",
                )
            await self._sleep(wait)

    def _parse_ok(self, raw: str, status: int, latency_ms: float, retries: int) -> Completion | tuple[Decision, str]:
        """A 2xx body -> Completion, or (decision, problem) when it is an error in disguise or garbled."""
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nesting too deep; ValueError: a 5,000-digit int
            return Decision.MALFORMED, f"malformed reply (HTTP {status}, not JSON)"
        choices = data.get("choices") if isinstance(data, dict) else None
        if not (isinstance(choices, list) and choices and isinstance(choices[0], dict)):
            if isinstance(data, dict) and isinstance(data.get("error"), (dict, str)):
                return self._embedded_error(data["error"], raw)
            return Decision.MALFORMED, f"malformed reply (HTTP {status}, no choices)"
        choice = choices[0]
        message = choice.get("message")
        if not isinstance(message, dict):
            return Decision.MALFORMED, f"malformed reply (HTTP {status}, no message object)"
        finish = choice.get("finish_reason")
        if finish == "error":  # OpenRouter: the upstream died mid-answer
            return Decision.TRANSIENT, f"provider error mid-answer (HTTP {status})"
        reasoning_field = message.get("reasoning_content")
        if reasoning_field is None:
            reasoning_field = message.get("reasoning")
        split = split_reasoning(message.get("content"), reasoning_field)
        refusal = message.get("refusal")
        refusal = refusal if isinstance(refusal, str) and refusal.strip() else None
        if (message.get("content") is None and reasoning_field is None and refusal is None
                and finish not in ("length", "max_tokens", "content_filter") and not message.get("tool_calls")):
            # No content at all (JSON null, not ""), no reasoning, no refusal, no block: a protocol fault, not
            # a model that chose to say nothing. Retried, then an error: never counted as a deflection.
            return Decision.MALFORMED, f"malformed reply (HTTP {status}, message content is null)"
        outcome = Outcome.blocked if finish == "content_filter" or refusal else answer_outcome(finish, split.text)
        return Completion(  # the text boundary is applied by generate()
            outcome=outcome,
            text=split.text,
            reasoning=split.reasoning,
            thought_suppressed=split.thought_suppressed,
            finish_reason=finish if isinstance(finish, str) else None,
            http_status=status,
            provider_refusal=refusal,
            raw=trim_raw(raw),
            usage=_usage(data.get("usage")),
            latency_ms=latency_ms,
            retries=retries,
            logprobs=_logprobs(choice.get("logprobs")),
        )

    def _embedded_error(self, err: Any, raw: str | None) -> tuple[Decision, str]:
        """A 2xx whose body is ``{"error": ...}`` (OpenRouter does this): judge it by its own code."""
        code = err.get("code") if isinstance(err, dict) else None
        status = code if isinstance(code, int) and 400 <= code < 600 else 502
        return classify(status, raw), f"provider error in a 2xx reply (code {status}): {self._redact(error_message(raw))}"


def _proxy_in_env(environ: Mapping[str, str]) -> bool:
    return any(environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"))


def _usage(value: Any) -> Usage | None:
    if not isinstance(value, dict):
        return None
    try:
        return Usage.model_validate(value)
    except ValueError:
        return None


def _logprobs(value: Any) -> list[dict[str, Any]] | None:
    content = value.get("content") if isinstance(value, dict) else None
    if not isinstance(content, list):
        return None
    kept: list[dict[str, Any]] = []
    for item in content[:LOGPROB_TOKENS_KEPT]:
        if not isinstance(item, dict):
            continue
        top = item.get("top_logprobs") if isinstance(item.get("top_logprobs"), list) else []
        kept.append(
            {
                "token": str(item.get("token", "")),
                "logprob": _num(item.get("logprob")),
                "top": [
                    {"token": str(t.get("token", "")), "logprob": _num(t.get("logprob"))}
                    for t in top
                    if isinstance(t, dict)
                ],
            }
        )
    return kept


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
