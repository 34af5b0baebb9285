"""Spec strings, targets files, presets, retry classification and think splitting."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from glasnost.errors import ConfigError
from glasnost.targets.retry import Decision, classify, parse_retry_after
from glasnost.targets.spec import key_required, parse_target, parse_targets
from glasnost.targets.think import split_reasoning


@pytest.mark.parametrize(
    "text,provider,model,base_url,key_env",
    [
        ("openai:gpt-4o-mini", "openai", "gpt-4o-mini", "https://api.openai.com/v1", "OPENAI_API_KEY"),
        ("deepseek:deepseek-chat", "deepseek", "deepseek-chat", "https://api.deepseek.com/v1", "DEEPSEEK_API_KEY"),
        ("openrouter:qwen/qwen3-235b-a22b", "openrouter", "qwen/qwen3-235b-a22b", "https://openrouter.ai/api/v1",
         "OPENROUTER_API_KEY"),
        ("ollama:qwen2.5:7b", "ollama", "qwen2.5:7b", "http://127.0.0.1:11434/v1", None),
        ("vllm:Qwen/Qwen2.5-7B-Instruct", "vllm", "Qwen/Qwen2.5-7B-Instruct", "http://127.0.0.1:8000/v1", "VLLM_API_KEY"),
        ("llamacpp:qwen2.5-7b-q4", "llamacpp", "qwen2.5-7b-q4", "http://127.0.0.1:8080/v1", "LLAMACPP_API_KEY"),
        ("openai-compat:http://127.0.0.1:8000/v1#my-model", "custom", "my-model", "http://127.0.0.1:8000/v1", None),
        ("openai-compat:https://host.example/v1/#org/model:tag?key_env=MY_KEY", "custom", "org/model:tag",
         "https://host.example/v1", "MY_KEY"),
    ],
)
def test_spec_strings_parse(text, provider, model, base_url, key_env, monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    spec = parse_target(text)
    assert (spec.kind, spec.provider, spec.model, spec.base_url, spec.api_key_env) == (
        "openai-compat", provider, model, base_url, key_env)


def test_ids_are_readable_and_options_apply():
    assert parse_target("deepseek:deepseek-chat").id == "deepseek:deepseek-chat"
    assert parse_target("openai-compat:http://h:1/v1#m").id == "http://h:1/v1#m"
    spec = parse_target("vllm:m?base_url=http://gpu:9000/v1&name=gpu-box&revision=abc123")
    assert (spec.base_url, spec.id, spec.revision) == ("http://gpu:9000/v1", "gpu-box", "abc123")


def test_keys_are_required_for_hosted_and_custom_not_for_local_servers():
    assert key_required(parse_target("openai:gpt-4o"))
    assert key_required(parse_target("openai-compat:http://h:1/v1#m?key_env=K"))
    assert not key_required(parse_target("vllm:m"))
    assert not key_required(parse_target("openai-compat:http://h:1/v1#m"))


@pytest.mark.parametrize(
    "value,url",
    [("0.0.0.0:11500", "http://127.0.0.1:11500/v1"), ("http://gpu-box:11434", "http://gpu-box:11434/v1"),
     ("https://o.example/v1/", "https://o.example/v1")],
)
def test_ollama_host_is_honoured(value, url, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert parse_target("ollama:llama3.2").base_url == url


def test_local_hub_id_and_folder(tmp_path):
    hub = parse_target("local:Qwen/Qwen2.5-0.5B-Instruct")
    assert (hub.kind, hub.model, hub.path) == ("local", "Qwen/Qwen2.5-0.5B-Instruct", None)
    folder = tmp_path / "my-model"
    folder.mkdir()
    spec = parse_target(f"local:{folder}")
    assert (spec.model, spec.path) == ("my-model", str(folder.resolve()))
    with pytest.raises(ConfigError, match="no model folder"):
        parse_target(f"local:{tmp_path}/missing")


def test_replay_spec(tmp_path):
    f = tmp_path / "r.jsonl"
    f.write_text('{"prompt": "q", "response": "a", "model": "x/y"}\n{"prompt": "q", "response": "b", "model": "z"}\n')
    spec = parse_target(f"replay:{f}#x/y")
    assert (spec.kind, spec.model, spec.path, spec.id) == ("replay", "x/y", str(f.resolve()), "replay:x/y")
    with pytest.raises(ConfigError, match="holds 2 models"):
        parse_target(f"replay:{f}")
    single = tmp_path / "one.jsonl"
    single.write_text('{"prompt": "q", "response": "a", "model": "only"}\n')
    assert parse_target(f"replay:{single}").model == "only"
    with pytest.raises(ConfigError, match="no replay file"):
        parse_target(f"replay:{tmp_path}/nope.jsonl#m")


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("chatgpt:gpt-4o", "known kinds: openai-compat, local, replay, openai, deepseek"),
        ("gpt-4o", "expected KIND:MODEL"),
        ("openai:", "no model name"),
        ("openai-compat:http://h:1/v1", "openai-compat:URL#MODEL"),
        ("openai-compat:ftp://h/v1#m", "must start with http"),
        ("openai:gpt-4o?api_key=sk-123", "unknown option api_key"),
    ],
)
def test_bad_specs_say_what_and_how(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse_target(text)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_targets_file(tmp_path, monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    path = tmp_path / "targets.yaml"
    path.write_text(
        "- deepseek:deepseek-chat\n"
        "- {kind: openrouter, model: qwen/qwen-max, name: qwen-max-or}\n"
        "- {kind: openai-compat, base_url: 'http://10.0.0.2:8000/v1', model: m, api_key_env: BOX_KEY}\n"
        "- {kind: ollama, model: 'qwen2.5:7b', revision: 845dbda0ea48}\n"
    )
    specs = parse_targets([str(path), "openai:gpt-4o-mini", "deepseek:deepseek-chat"])
    assert [s.id for s in specs] == [
        "deepseek:deepseek-chat", "qwen-max-or", "http://10.0.0.2:8000/v1#m", "ollama:qwen2.5:7b", "openai:gpt-4o-mini"]
    assert specs[1].base_url == "https://openrouter.ai/api/v1" and specs[1].api_key_env == "OPENROUTER_API_KEY"
    assert specs[2].api_key_env == "BOX_KEY" and specs[3].revision == "845dbda0ea48"


def test_targets_file_local_and_replay_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "models" / "tiny").mkdir(parents=True)
    (tmp_path / "rec.jsonl").write_text('{"prompt": "q", "response": "a", "model": "only"}\n')
    path = tmp_path / "targets.yml"
    path.write_text("- {kind: local, path: models/tiny, name: tiny-local}\n- {kind: replay, path: rec.jsonl}\n"
                    "- {spec: 'vllm:m', name: v}\n")
    local, replay, vllm = parse_targets([str(path)])
    assert (local.kind, local.model, local.path, local.id) == (
        "local", "tiny", str((tmp_path / "models" / "tiny").resolve()), "tiny-local")
    assert (replay.kind, replay.model, replay.path) == ("replay", "only", str((tmp_path / "rec.jsonl").resolve()))
    assert (vllm.id, vllm.provider) == ("v", "vllm")


def test_bad_targets_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {kind: nonsense, model: m}\n")
    with pytest.raises(ConfigError, match="item 1: unknown kind 'nonsense'"):
        parse_targets([str(bad)])
    bad.write_text("- {kind: openai-compat, model: m}\n")
    with pytest.raises(ConfigError, match="needs base_url"):
        parse_targets([str(bad)])
    bad.write_text("targets: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_targets([str(bad)])
    with pytest.raises(ConfigError, match="no targets file"):
        parse_targets([str(tmp_path / "missing.yaml")])


def test_clashing_ids_are_an_error():
    with pytest.raises(ConfigError, match="share the id"):
        parse_targets(["vllm:m?name=box", "llamacpp:m?name=box"])


@pytest.mark.parametrize(
    "status,body,decision",
    [
        (200, "", Decision.OK),
        (400, '{"error":{"message":"Content Exists Risk"}}', Decision.BLOCKED),
        (500, "Output data may contain inappropriate content.", Decision.BLOCKED),
        (451, "", Decision.BLOCKED),
        (429, '{"error":{"type":"insufficient_quota"}}', Decision.FATAL),
        (429, '{"error":{"message":"Rate limit reached"}}', Decision.RATE_LIMIT),
        (402, "", Decision.FATAL),
        (401, "", Decision.FATAL),
        (403, "forbidden", Decision.FATAL),
        (404, "", Decision.FATAL),
        (400, '{"error":{"message":"The model `x` does not exist"}}', Decision.FATAL),
        (400, "context length exceeded", Decision.REJECTED),
        (408, "", Decision.TRANSIENT),
        (503, "", Decision.TRANSIENT),
        (529, "overloaded", Decision.TRANSIENT),
    ],
)
def test_classify(status, body, decision):
    assert classify(status, body) is decision


def test_retry_after_forms():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after({"retry-after": "12"}) == 12.0
    assert parse_retry_after({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, now) == 30.0
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert parse_retry_after({"retry-after": "soon"}) is None and parse_retry_after({}) is None


@pytest.mark.parametrize(
    "content,field,want",
    [
        ("Plain answer.", None, ("Plain answer.", None, None)),
        ("<think>Recall.</think>\n\nAnswer.", None, ("Answer.", "Recall.", False)),
        ("<think>\n\n</think>\n\nAnswer.", None, ("Answer.", None, True)),
        ("  <THINKING>x</THINKING>y", None, ("y", "x", False)),
        ("Reasoning without opener.</think>Answer.", None, ("Answer.", "Reasoning without opener.", False)),
        ("<think>cut off while thinking", None, ("", "cut off while thinking", False)),
        ("An answer that quotes <think>tags</think> mid-way.", None,
         ("An answer that quotes <think>tags</think> mid-way.", None, None)),
        ("Answer.", "", ("Answer.", None, True)),
        ("Answer.", "Field reasoning.", ("Answer.", "Field reasoning.", False)),
        ([{"type": "text", "text": "Part one. "}, {"type": "text", "text": "Two."}], None,
         ("Part one. Two.", None, None)),
    ],
)
def test_split_reasoning(content, field, want):
    assert tuple(split_reasoning(content, field)) == want
