"""ReplayTarget: glasnost exports and corpus files, outcome mapping, misses, sample wrap-around."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from glasnost.errors import ConfigError
from glasnost.records import Outcome, Response
from glasnost.targets.base import ChatRequest, build_messages, make_target
from glasnost.targets.replay import corpus_completion
from glasnost.targets.spec import parse_target

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpora"


def row(prompt, response, model="qwen/qwen-max", **kw):
    base = {"id": f"x:{prompt}", "source": "speechmap", "prompt": prompt, "response": response, "reasoning": None,
            "refusal_field": None, "finish_reason": "stop", "error": None, "model": model, "provider": "Alibaba"}
    return {**base, **kw}


def ask(prompt, sample_index=0):
    return ChatRequest(messages=build_messages(prompt, "system prompts do not matter"), sample_index=sample_index)


@pytest.fixture
def corpus_file(tmp_path):
    rows = [
        row("Q1", "First answer."),
        row("Q1", "Second answer."),
        row("Q2", None, finish_reason=None,
            error="400: Provider returned error [provider: Alibaba] | Input data may contain inappropriate content."),
        row("Q3", "The", finish_reason=None,
            error="502: Upstream error from Alibaba: Output data may contain inappropriate content. [provider: Alibaba]"),
        row("Q4", None, finish_reason=None, error="500: Internal Server Error"),
        row("Q5", "Partial essay", finish_reason="content_filter"),
        row("Q6", "<think>\nweighing it\n</think>\n\nAn answer.", model="qwen/qwen3-32b"),
        row("Q7", "", finish_reason="stop"),
        row("Q8", "cut", finish_reason="length"),
        row("Q9", None, refusal_field="I can't help with that.", finish_reason="stop"),
    ]
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


async def test_corpus_rows_map_to_outcomes(corpus_file):
    target = make_target(parse_target(f"replay:{corpus_file}#qwen/qwen-max"))
    runtime = await target.start()
    assert runtime.extra["format"] == "corpus" and runtime.extra["rows"] == 9 and runtime.revision.startswith("sha256:")
    got = {q: await target.generate(ask(q)) for q in ["Q1", "Q2", "Q3", "Q4", "Q5", "Q7", "Q8", "Q9"]}
    assert got["Q1"].outcome is Outcome.ok and got["Q1"].text == "First answer."
    assert got["Q2"].outcome is Outcome.blocked and got["Q2"].http_status == 400 and got["Q2"].text is None
    assert got["Q3"].outcome is Outcome.blocked and got["Q3"].text == "The" and got["Q3"].http_status == 502
    assert got["Q4"].outcome is Outcome.error and got["Q4"].error == "500: Internal Server Error"
    assert got["Q5"].outcome is Outcome.blocked and got["Q5"].text == "Partial essay"
    assert got["Q7"].outcome is Outcome.empty
    assert got["Q8"].outcome is Outcome.truncated
    assert got["Q9"].outcome is Outcome.blocked and got["Q9"].provider_refusal == "I can't help with that."
    # Q6 belongs to another model: not recorded for this one.
    miss = await target.generate(ask("Q6"))
    assert miss.outcome is Outcome.error and miss.error.startswith("not recorded")
    await target.aclose()


async def test_sample_index_picks_the_ith_recording_and_wraps(corpus_file):
    target = make_target(parse_target(f"replay:{corpus_file}#qwen/qwen-max"))
    await target.start()
    texts = [(await target.generate(ask("Q1", i))).text for i in range(3)]
    await target.aclose()
    assert texts == ["First answer.", "Second answer.", "First answer."]


async def test_inline_think_is_split(corpus_file):
    target = make_target(parse_target(f"replay:{corpus_file}#qwen/qwen3-32b"))
    await target.start()
    c = await target.generate(ask("Q6"))
    await target.aclose()
    assert (c.text, c.reasoning, c.thought_suppressed) == ("An answer.", "weighing it", False)


async def test_unknown_model_lists_the_ones_there(corpus_file):
    target = make_target(parse_target(f"replay:{corpus_file}#nobody/none"))
    with pytest.raises(ConfigError, match="no rows for model 'nobody/none'; models there: qwen/qwen-max"):
        await target.start()


async def test_glasnost_export_round_trips(tmp_path):
    def resp(key, prompt, outcome, text, target_id="deepseek:deepseek-chat", **kw):
        return Response(key=key, run_id="r1", concept_id="cn.x", lang="en", prompt=prompt, target_id=target_id,
                        target={"kind": "openai-compat", "provider": "deepseek", "model": target_id.split(":")[1]},
                        outcome=outcome, text=text, **kw)

    records = [
        resp("k1", "What happened?", Outcome.ok, "Troops fired.", reasoning="think", thought_suppressed=False,
             usage={"prompt_tokens": 3}),
        resp("k2", "Blocked one", Outcome.blocked, None, http_status=400, error="blocked by the provider: risk"),
        resp("k3", "What happened?", Outcome.ok, "Other model.", target_id="openai:gpt-4o"),
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(r.model_dump_json() + "\n" for r in records))
    for selector in ("deepseek:deepseek-chat", "deepseek-chat"):  # target id or model name
        target = make_target(parse_target(f"replay:{path}#{selector}"))
        runtime = await target.start()
        ok = await target.generate(ask("What happened?"))
        blocked = await target.generate(ask("Blocked one"))
        await target.aclose()
        assert runtime.extra["format"] == "export" and runtime.extra["rows"] == 2
        assert (ok.outcome, ok.text, ok.reasoning, ok.usage.prompt_tokens) == (Outcome.ok, "Troops fired.", "think", 3)
        assert (blocked.outcome, blocked.http_status) == (Outcome.blocked, 400)


async def test_garbage_file_is_one_clear_line(tmp_path):
    path = tmp_path / "junk.jsonl"
    path.write_text('{"hello": 1}\n')
    target = make_target(parse_target(f"replay:{path}#m"))
    with pytest.raises(ConfigError, match="neither a glasnost export"):
        await target.start()


@pytest.mark.skipif(not (CORPORA / "speechmap-dev.jsonl.gz").exists(), reason="shared corpora not present")
async def test_real_speechmap_corpus_blocked_rows():
    target = make_target(parse_target(f"replay:{CORPORA / 'speechmap-dev.jsonl.gz'}#qwen/qwen-max"))
    runtime = await target.start()
    assert runtime.extra["rows"] == 300
    outcomes: dict[str, int] = {}
    for recorded in target._answers.values():
        for c in recorded:
            outcomes[c.outcome.value] = outcomes.get(c.outcome.value, 0) + 1
    await target.aclose()
    assert outcomes["blocked"] == 42  # 11 input rejections + 31 cut off by output moderation (README)
    assert outcomes.get("error", 0) == 0


def test_corpus_invalid_model_error_is_error_not_blocked():
    c = corpus_completion(row("q", None, model="openai/o1-preview", finish_reason=None,
                              error="invalid_request_error: invalid model ID"))
    assert c.outcome is Outcome.error and c.http_status is None
