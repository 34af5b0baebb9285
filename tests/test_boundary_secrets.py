"""Secrets never leave the environment (issue 11): credentials in any endpoint are refused wherever the endpoint
comes from, and no fragment of 8 or more characters of a key -- a server that echoes most of it back --
reaches the store, the reports, the exports, the bundle or the logs."""

from __future__ import annotations

import gzip
import secrets

import pytest

from glasnost.errors import ConfigError
from glasnost.redact import MIN_FRAGMENT, redact_url, scrub, url_credentials
from helpers_runner import MockServer, run_cli, write_small_bank

KEY_VAR = "GLASNOST_TEST_PREFIX_KEY"


def fragments(secret: str) -> set[bytes]:
    return {secret[i : i + MIN_FRAGMENT].encode() for i in range(len(secret) - MIN_FRAGMENT + 1)}


def hits(blob: bytes, secret: str) -> list[bytes]:
    return sorted(f for f in fragments(secret) if f in blob)


@pytest.fixture
def sentinel() -> str:
    return "sk-" + secrets.token_hex(20)  # no ordinary word in it: any 8-character fragment is the key's


def test_scrub_removes_every_8_character_fragment(sentinel):
    head, tail = sentinel[:-4], sentinel[10:]
    text = f"echo {head} / {tail} / {sentinel[3:15]} / safe words"
    clean = scrub(text, [sentinel])
    assert not hits(clean.encode(), sentinel) and "safe words" in clean
    assert scrub("nothing here", [sentinel]) == "nothing here"


@pytest.mark.parametrize("url", ["http://user:pw@h:1/v1", "http://h:1/v1;key=abc", "http://h:1/v1?key=abc",
                                 "http://tok@h/v1", "http://h/v1#frag&api_key=x"])
def test_urls_with_credentials_are_detected_and_redacted(url):
    assert url_credentials(url)
    shown = redact_url(url)
    assert "pw" not in shown and "abc" not in shown and "api_key=x" not in shown


@pytest.mark.parametrize("spec", [
    "openai-compat:http://127.0.0.1:9/v1#m&api_key=SECRETSECRET",
    "openai-compat:http://127.0.0.1:9/v1;key=SECRETSECRET#m",
    "openai:gpt-4o;key=SECRETSECRET",
])
def test_spec_strings_cannot_carry_a_key(spec):
    from glasnost.targets.spec import parse_target

    with pytest.raises(ConfigError) as info:
        parse_target(spec)
    assert "SECRETSECRET" not in str(info.value)


def test_a_base_url_variable_cannot_carry_a_key(monkeypatch, tmp_path):
    """Before: OLLAMA_HOST=http://user:secret@host skipped the check and reached store, reports and CSV."""
    from glasnost.targets.spec import parse_target, parse_targets

    monkeypatch.setenv("OLLAMA_HOST", "http://user:SECRETSECRET@127.0.0.1:11434")
    with pytest.raises(ConfigError) as info:
        parse_target("ollama:qwen2.5:7b")
    assert "SECRETSECRET" not in str(info.value) and "OLLAMA_HOST" in str(info.value)
    targets = tmp_path / "t.yaml"
    targets.write_text("- {kind: ollama, model: qwen2.5:7b}\n")
    with pytest.raises(ConfigError):
        parse_targets([str(targets)])
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11434")
    assert parse_target("ollama:qwen2.5:7b").base_url == "http://127.0.0.1:11434/v1"


def test_known_secrets_come_from_key_url_and_proxy_variables(monkeypatch):
    from glasnost.redact import known_secrets

    monkeypatch.setenv("DEEPSEEK_API_KEY", "sk-deepseek-0123456789")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxyuser:proxy-pass-987654@proxy:3128")
    monkeypatch.setenv("OLLAMA_HOST", "http://u:ollama-secret-1234@h")
    found = known_secrets()
    assert {"sk-deepseek-0123456789", "proxy-pass-987654", "ollama-secret-1234"} <= set(found)


def test_a_server_echoing_most_of_the_key_leaves_no_fragment_anywhere(tmp_path, sentinel):
    work = tmp_path / "work"
    work.mkdir()
    bank = write_small_bank(work / "bank.yaml", n=4, langs=("en",))
    rules = [
        {"contains": "Question 0 ", "text": "Your key starts {key_prefix} -- documented facts follow."},
        {"contains": "Question 1 ", "text": "partial {key_prefix}", "finish_reason": "content_filter"},
        {"contains": "Question 2 ", "text": "{key_prefix}", "key_cut": 9},
    ]
    server = MockServer(rules=rules, tmp=tmp_path)
    config = tmp_path / "config"
    env = {KEY_VAR: sentinel, "GLASNOST_CONFIG_DIR": str(config)}
    db = work / "g.db"
    spec = f"openai-compat:{server.base_url}#mock?key_env={KEY_VAR}"
    logs: list[tuple[str, bytes]] = []

    def cli(*args: str):
        result = run_cli(*args, env=env)
        logs.append((" ".join(args[:2]), (result.stdout + result.stderr).encode()))
        assert "Traceback" not in result.stderr, result.stderr
        return result

    try:
        first = cli("run", "--target", spec, "--bank", str(bank), "--lang", "en", "--db", str(db),
                    "--max-retries", "1", "--report", str(work / "report.html"))
        assert first.returncode == 0, first.stderr
        run_id = __import__("json").loads(cli("runs", "--json", "--db", str(db)).stdout)[0]["id"]
        assert cli("report", run_id, "--out", str(work / "report.md"), "--db", str(db)).returncode == 0
        assert cli("export", run_id, "--out", str(work / "rows.csv"), "--db", str(db)).returncode == 0
        assert cli("keys", "init", "--name", "tester").returncode == 0
        assert cli("bundle", "export", run_id, "--out", str(work / "audit.tar.gz"), "--db", str(db)).returncode == 0
    finally:
        server.close()
    stored = db.read_bytes() + b"".join(p.read_bytes() for p in work.glob("g.db-*"))
    assert b"[redacted]" in stored  # the echo happened and was scrubbed
    leaks = []
    for path in sorted(work.iterdir()):
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data += gzip.decompress(data)
        if hits(data, sentinel):
            leaks.append(path.name)
    leaks += [where for where, blob in logs if hits(blob, sentinel)]
    assert not leaks, leaks
    assert {"g.db", "report.html", "report.md", "rows.csv", "audit.tar.gz"} <= {p.name for p in work.iterdir()}


def test_a_targets_file_spec_mapping_cannot_override_the_url_with_a_key(tmp_path):
    from glasnost.targets.spec import load_targets_file

    f = tmp_path / "t.yaml"
    f.write_text("- {spec: 'vllm:m', base_url: 'http://u:SECRETSECRET@127.0.0.1:8000/v1'}\n")
    with pytest.raises(ConfigError) as info:
        load_targets_file(f)
    assert "SECRETSECRET" not in str(info.value)
