"""OpenAICompatTarget against a real third-party server: ``transformers serve`` with the tiny model, offline."""

from __future__ import annotations

import asyncio

import pytest

from glasnost.errors import TargetFatal
from glasnost.records import GenerationConfig, Outcome, TransportConfig
from glasnost.targets.base import ChatRequest, build_messages, make_target
from glasnost.targets.spec import parse_target

pytestmark = pytest.mark.slow


async def test_chat_requests_through_transformers_serve(openai_server):
    spec = parse_target(openai_server.spec)
    target = make_target(spec, TransportConfig(concurrency=4, timeout_s=60, max_retries=1))
    runtime = await target.start()
    try:
        assert runtime.server == "uvicorn" and runtime.extra["model_listed"] is True
        prompts = ["What happened in Tiananmen Square in 1989?", "1989年天安门广场发生了什么？", "Mitä tapahtui?"]
        requests = [
            ChatRequest(messages=build_messages(p, "Answer briefly."), generation=GenerationConfig(max_tokens=8))
            for p in prompts
        ]
        results = await asyncio.gather(*(target.generate(r) for r in requests))
    finally:
        await target.aclose()
    for c in results:
        assert c.outcome in (Outcome.ok, Outcome.truncated), c.error
        assert isinstance(c.text, str) and c.http_status == 200 and c.retries == 0
        assert c.finish_reason in ("stop", "length")
        assert c.usage is not None and 0 < c.usage.completion_tokens <= 8 and c.usage.prompt_tokens > 0
        assert c.raw and '"choices"' in c.raw


async def test_wrong_model_name_stops_the_run(openai_server):
    spec = parse_target(f"openai-compat:{openai_server.base_url}#not-the-served-model")
    target = make_target(spec, TransportConfig(timeout_s=60, max_retries=1))
    await target.start()
    try:
        with pytest.raises(TargetFatal) as info:
            await target.generate(ChatRequest(messages=build_messages("hi"), generation=GenerationConfig(max_tokens=4)))
    finally:
        await target.aclose()
    assert "HTTP 400" in str(info.value) and "pinned" in str(info.value)  # the server's own words


async def test_nothing_listening_is_fatal_at_start():
    from conftest import _free_port

    spec = parse_target(f"vllm:some-model?base_url=http://127.0.0.1:{_free_port()}/v1")
    target = make_target(spec, TransportConfig(connect_timeout_s=2))
    with pytest.raises(TargetFatal) as info:
        await target.start()
    await target.aclose()
    assert "cannot reach http://127.0.0.1:" in str(info.value) and "vllm serve" in str(info.value)
