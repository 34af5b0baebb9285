"""LocalTarget on the tiny model: batching, chat template, truncation, seeded sampling, scoring, errors."""

from __future__ import annotations

import asyncio

import pytest

from glasnost.errors import TargetFatal
from glasnost.records import GenerationConfig, Outcome, sha256_text
from glasnost.targets.base import ChatRequest, build_messages, make_target
from glasnost.targets.spec import parse_target

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_spec(tiny_model_dir):
    return parse_target(f"local:{tiny_model_dir}")


def req(prompt: str, sample_index: int = 0, **gen) -> ChatRequest:
    return ChatRequest(messages=build_messages(prompt), generation=GenerationConfig(**gen), sample_index=sample_index)


async def test_start_records_template_and_revision(local_spec, tiny_model_dir):
    from transformers import AutoTokenizer

    target = make_target(local_spec)
    runtime = await target.start()
    await target.aclose()
    template = AutoTokenizer.from_pretrained(tiny_model_dir).chat_template
    assert runtime.chat_template_sha == sha256_text(template)
    assert runtime.revision and runtime.revision.startswith("sha256:")
    assert runtime.target_id == local_spec.id == f"local:{tiny_model_dir.name}"


async def test_concurrent_requests_are_batched_and_match_single_runs(local_spec):
    target = make_target(local_spec, None)
    target.batch_wait_s = 0.5  # let all three arrive before the first batch runs
    await target.start()
    prompts = ["What happened in 1989?", "1989年天安门广场发生了什么？", "Mitä tapahtui?"]
    batched = await asyncio.gather(*(target.generate(req(p, max_tokens=6)) for p in prompts))
    assert target.batch_sizes == [3]
    singles = [await target.generate(req(p, max_tokens=6)) for p in prompts]
    await target.aclose()
    for b, s in zip(batched, singles):
        assert b.outcome is Outcome.truncated and b.finish_reason == "length"  # 6 tokens of babble
        assert isinstance(b.text, str) and b.usage.completion_tokens == 6 and b.usage.prompt_tokens > 0
        assert b.text == s.text  # left padding does not change a greedy answer


async def test_sampling_is_reproducible_from_seed_and_sample_index(local_spec):
    target = make_target(local_spec)
    target.batch_wait_s = 0.2
    await target.start()
    hot = {"max_tokens": 12, "temperature": 1.0, "seed": 11}
    alone = await target.generate(req("Tell me about Tibet.", 1, **hot))
    # The same request inside a batch of others, and again: the same sample.
    mixed = await asyncio.gather(
        target.generate(req("Something else", 0, **hot)),
        target.generate(req("Tell me about Tibet.", 1, **hot)),
        target.generate(req("Tell me about Tibet.", 2, **hot)),
    )
    other_seed = await target.generate(req("Tell me about Tibet.", 1, **{**hot, "seed": 12}))
    greedy = await target.generate(req("Tell me about Tibet.", 1, max_tokens=12))
    await target.aclose()
    assert mixed[1].text == alone.text
    assert mixed[2].text != alone.text  # another sample index, another draw
    assert other_seed.text != alone.text
    assert greedy.text != alone.text  # temperature 1 really samples


async def test_stop_string_and_stop_finish(local_spec):
    target = make_target(local_spec)
    await target.start()
    first = await target.generate(req("What happened in 1989?", max_tokens=8))
    stop = first.text[2:4]  # something the greedy answer is known to contain
    cut = await target.generate(req("What happened in 1989?", max_tokens=8, stop=[stop]))
    await target.aclose()
    assert stop not in cut.text and first.text.startswith(cut.text)
    assert cut.finish_reason == "stop" and cut.outcome in (Outcome.ok, Outcome.empty)


async def test_score_continuations_matches_a_direct_computation(local_spec, tiny_model_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target = make_target(local_spec)
    await target.start()
    prefix, conts = "In June 1989 the army", [" cleared the square.", " 清场了。"]
    summed = await target.score_continuations(prefix, conts)
    mean = await target.score_continuations(prefix, conts, normalize=True)
    chat = await target.score_continuations(build_messages("What happened?"), conts)
    with pytest.raises(ValueError):
        await target.score_continuations(prefix, [""])
    await target.aclose()

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).eval()
    for cont, got_sum, got_mean in zip(conts, summed, mean):
        p_ids = tok(prefix)["input_ids"]
        c_ids = tok(cont, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([p_ids + c_ids])
        with torch.no_grad():
            logp = torch.log_softmax(model(ids).logits[0].float(), -1)
        want = sum(float(logp[len(p_ids) - 1 + i, t]) for i, t in enumerate(c_ids))
        assert got_sum == pytest.approx(want, abs=1e-3)
        assert got_mean == pytest.approx(want / len(c_ids), abs=1e-3)
    assert chat != summed  # the chat-rendered prefix is a different context


async def test_missing_model_offline_is_one_fatal_line(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    target = make_target(parse_target("local:nobody/not-a-real-model-xyz"))
    with pytest.raises(TargetFatal) as info:
        await target.start()
    msg = str(info.value)
    assert "\n" not in msg and "nobody/not-a-real-model-xyz" in msg
    assert "local:/path/to/model" in msg and "ollama:" in msg


async def test_think_is_split_in_local_output():
    from glasnost.targets.local import LocalTarget
    from glasnost.targets.local_backend import Generated

    c = LocalTarget._completion(Generated("<think>\n</think>\nNo comment.", "stop", 5, 6), 1.0)
    assert (c.text, c.thought_suppressed, c.outcome) == ("No comment.", True, Outcome.ok)
    c = LocalTarget._completion(Generated("<think>Recall events", "length", 5, 6), 1.0)
    assert (c.text, c.reasoning, c.outcome) == ("", "Recall events", Outcome.truncated)
