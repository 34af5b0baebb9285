"""Hardening: an API key lives only in the environment.

A real ``glasnost run`` against the mock server, with a key held in a custom variable, against a server that
echoes the request headers (``Authorization: Bearer <key>``) back in answers, in error bodies of every kind
and in a 401; then every byte the run leaves behind (the SQLite file and its WAL, the reports, the exports,
a signed bundle, stdout and stderr) is searched for the key.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import pytest

from helpers_runner import MockServer, run_cli, write_small_bank

KEY_VAR = "GLASNOST_TEST_SECRET_KEY"


def _forms(sentinel: str) -> list[bytes]:
    """The key as bytes, and the encodings a careless layer might write it in."""
    raw = sentinel.encode()
    return [raw, base64.b64encode(raw), base64.b64encode(f"Bearer {sentinel}".encode()), raw.hex().encode(),
            sentinel.encode("utf-16-le")]


def _leaks(blob: bytes, sentinel: str) -> list[str]:
    return [repr(form[:24]) for form in _forms(sentinel) if form in blob]


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def sentinel() -> str:
    return "sk-glasnost-SENTINEL-" + secrets.token_hex(12)


def test_a_key_never_leaves_the_environment(tmp_path, sentinel):
    work = tmp_path / "work"
    work.mkdir()
    bank = write_small_bank(work / "bank.yaml", n=6, langs=("en",))
    rules = [
        # the "model" answers with the request headers, key included
        {"contains": "Question 0 ", "text": "Sure. Your headers were {headers}."},
        # a policy block whose body echoes the headers (kept as raw body)
        {"contains": "Question 1 ", "status": 451, "echo_headers": True},
        # a rejected request (400): an error outcome with the raw body kept
        {"contains": "Question 2 ", "status": 400, "echo_headers": True},
        # a 5xx retried then given up: an error outcome
        {"contains": "Question 3 ", "status": 503, "echo_headers": True},
        # a content-filter finish with the headers in the partial text
        {"contains": "Question 4 ", "text": "partial {headers}", "finish_reason": "content_filter"},
    ]
    server = MockServer(rules=rules, tmp=tmp_path)
    config = tmp_path / "config"
    env = {KEY_VAR: sentinel, "GLASNOST_CONFIG_DIR": str(config)}
    db = work / "g.db"
    spec = f"openai-compat:{server.base_url}#mock?key_env={KEY_VAR}"
    outputs: list[tuple[str, bytes]] = []

    def cli(*args: str) -> None:
        result = run_cli(*args, env=env)
        outputs.append((f"stdout of {args[:2]}", result.stdout.encode()))
        outputs.append((f"stderr of {args[:2]}", result.stderr.encode()))
        return result

    try:
        first = cli("run", "--target", spec, "--bank", str(bank), "--lang", "en", "--db", str(db),
                    "--max-retries", "1", "--judge", "none", "--report", str(work / "report.html"))
        assert first.returncode == 4, first.stderr  # 2 errors left after retries: exit code 4
        # The server did receive the key (the test would prove nothing otherwise) and echoed it.
        assert sum(server.stats()["answered"].values()) >= 6
        runs = json.loads(cli("runs", "--json", "--db", str(db)).stdout)
        run_id = runs[0]["id"]
        assert set(runs[0]["outcomes"]) >= {"ok", "blocked", "error"}, runs[0]["outcomes"]
        for name in ("report.md", "report.json"):
            assert cli("report", run_id, "--out", str(work / name), "--db", str(db)).returncode == 0
        for name in ("rows.csv", "rows.jsonl"):
            assert cli("export", run_id, "--out", str(work / name), "--db", str(db)).returncode == 0
        assert cli("show", run_id, "--json", "--db", str(db)).returncode == 0
        assert cli("keys", "init", "--name", "tester").returncode == 0
        exported = cli("bundle", "export", run_id, "--out", str(work / "audit.tar.gz"), "--db", str(db))
        assert exported.returncode == 0, exported.stderr
        assert cli("bundle", "verify", str(work / "audit.tar.gz")).returncode == 0

        # Now a 401 whose body echoes the key: the run stops with one line, without the key.
        server.control(rules=[{"status": 401, "echo_headers": True}])
        denied = cli("run", "--target", spec, "--bank", str(bank), "--lang", "en", "--db", str(db),
                     "--samples", "2", "--judge", "none", "--report", "")
        assert denied.returncode != 0
        assert "not authorised" in denied.stderr and KEY_VAR in denied.stderr, denied.stderr
        assert "[redacted]" in denied.stderr  # the echo was there, and scrubbed
        assert "Traceback" not in denied.stderr
    finally:
        server.close()

    # The proof that the echo happened: the redaction marker is in the store.
    import sqlite3

    con = sqlite3.connect(db)
    try:
        stored = "\n".join(str(r) for r in con.execute("SELECT * FROM responses"))
        manifests = "\n".join(str(r) for r in con.execute("SELECT * FROM runs"))
    finally:
        con.close()
    assert "[redacted]" in stored
    assert "failed" in manifests  # the 401 run was recorded as failed, with its one line

    files = _all_files(work)
    names = {p.name for p in files}
    assert {"g.db", "report.html", "report.md", "report.json", "rows.csv", "rows.jsonl", "audit.tar.gz"} <= names
    leaks = []
    for path in files + _all_files(config):
        data = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            data += gzip.decompress(data)
        found = _leaks(data, sentinel)
        if found:
            leaks.append(f"{path.name}: {found}")
    for where, blob in outputs:
        found = _leaks(blob, sentinel)
        if found:
            leaks.append(f"{where}: {found}")
    assert not leaks, leaks


def test_a_key_in_the_url_is_refused_without_being_echoed(tmp_path, sentinel):
    """``user:KEY@host`` or ``?key=KEY`` in a base URL would put the key into every record: refused."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    for spec in (f"openai-compat:http://user:{sentinel}@127.0.0.1:9/v1#m",
                 f"openai-compat:http://127.0.0.1:9/v1?key={sentinel}#m",
                 f"vllm:m?base_url=http://u:{sentinel}@127.0.0.1:9/v1"):
        result = run_cli("run", "--target", spec, "--bank", str(bank), "--lang", "en", "--db",
                         str(tmp_path / "x.db"), "--judge", "none", "--report", "")
        assert result.returncode == 2, (spec, result.stderr)
        lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
        assert "environment" in lines[0], lines[0]
        assert sentinel not in result.stderr + result.stdout
    assert not (tmp_path / "x.db").exists() or sentinel.encode() not in (tmp_path / "x.db").read_bytes()


def test_a_targets_file_cannot_smuggle_a_key(tmp_path, sentinel):
    """A targets file mapping with an ``api_key`` field is refused (and not echoed)."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    targets = tmp_path / "targets.yaml"
    targets.write_text(f"- {{kind: openai-compat, base_url: 'http://127.0.0.1:9/v1', model: m, api_key: {sentinel}}}\n")
    result = run_cli("run", "--target", str(targets), "--bank", str(bank), "--lang", "en",
                     "--db", str(tmp_path / "x.db"), "--judge", "none", "--report", "")
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert sentinel not in result.stderr + result.stdout


def test_repr_and_errors_of_a_target_hold_no_key(sentinel):
    import asyncio

    import httpx

    from glasnost.errors import TargetFatal
    from glasnost.records import GenerationConfig, TransportConfig
    from glasnost.targets.base import ChatMessage, ChatRequest
    from glasnost.targets.openai_compat import OpenAICompatTarget
    from glasnost.targets.spec import parse_target

    def handler(request: httpx.Request) -> httpx.Response:
        echoed = request.headers["authorization"]
        return httpx.Response(401, json={"error": {"message": f"invalid key {echoed}"}})

    target = OpenAICompatTarget(parse_target("openai-compat:http://h.example/v1#m?key_env=K"),
                                TransportConfig(max_retries=0), http_transport=httpx.MockTransport(handler),
                                environ={"K": sentinel})
    request = ChatRequest(messages=[ChatMessage(role="user", content="hi")], generation=GenerationConfig())

    async def go():
        try:
            await target.generate(request)
        finally:
            await target.aclose()

    with pytest.raises(TargetFatal) as info:
        asyncio.run(go())
    assert sentinel not in str(info.value) and "[redacted]" in str(info.value)
    assert sentinel not in repr(target) and sentinel not in repr(target.spec)
    assert os.environ.get("K") is None


def _target_answering(body: bytes, status: int, key: str):
    import httpx

    from glasnost.records import TransportConfig
    from glasnost.targets.openai_compat import OpenAICompatTarget
    from glasnost.targets.spec import parse_target

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"content-type": "application/json"})

    return OpenAICompatTarget(parse_target("openai-compat:http://h.example/v1#m?key_env=K"),
                              TransportConfig(max_retries=0), http_transport=httpx.MockTransport(handler),
                              environ={"K": key}, sleep=_no_sleep)


async def _no_sleep(_: float) -> None:
    return None


@pytest.mark.parametrize("status", [200, 400, 451])
def test_a_key_echoed_in_json_escapes_is_still_scrubbed(status):
    """A server may echo the key JSON-escaped (PHP writes ``\\/``, others ``\\u00XX``): the parsed text would
    hold the key although the raw bytes do not. Text, error and raw body must all come out clean."""
    import asyncio

    from glasnost.records import GenerationConfig
    from glasnost.targets.base import ChatMessage, ChatRequest

    key = "sk-abc/def+ghi/" + secrets.token_hex(8)
    escaped = key.replace("/", "\\/").replace("sk-", "\\u0073k-")
    if status == 200:
        body = ('{"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant",'
                f'"content":"Your key is {escaped}.","reasoning_content":"{escaped}"}}}}]}}')
    else:
        body = f'{{"error":{{"message":"bad key Bearer {escaped} (content policy)"}}}}'
    target = _target_answering(body.encode(), status, key)
    request = ChatRequest(messages=[ChatMessage(role="user", content="hi")], generation=GenerationConfig())

    async def go():
        try:
            return await target.generate(request)
        finally:
            await target.aclose()

    completion = asyncio.run(go())
    dumped = completion.model_dump_json()
    assert key not in dumped and key not in json.dumps(json.loads(dumped), ensure_ascii=False)
    if completion.raw:
        assert key not in json.dumps(json.loads(completion.raw), ensure_ascii=False)
    assert "[redacted]" in (completion.text or "") + (completion.error or "") + (completion.raw or "")


def test_spec_errors_do_not_echo_a_key():
    from glasnost.errors import ConfigError
    from glasnost.targets.spec import parse_target, parse_targets

    for text in ("openai:gpt-4o?api_key=sk-SECRET123", "openai-compat:http://u:sk-SECRET123@h:1/v1",
                 "openai-compat:http://h:1/v1?token=sk-SECRET123#m", "deepseek:m?key_env=X&password=sk-SECRET123"):
        with pytest.raises(ConfigError) as info:
            parse_targets([text])
        assert "sk-SECRET123" not in str(info.value), str(info.value)
        assert "\n" not in str(info.value)
    # an ordinary spec still parses, options intact
    spec = parse_target("openai-compat:http://127.0.0.1:8000/v1#m?key_env=MY_KEY&name=box")
    assert (spec.api_key_env, spec.name, spec.base_url) == ("MY_KEY", "box", "http://127.0.0.1:8000/v1")


@pytest.mark.parametrize("bad", ["sk-abc\u2019def", "sk-abc\r\nX-Injected: 1", "sk-\x00abc"])
def test_a_key_a_header_cannot_carry_is_one_line_without_the_key(tmp_path, bad):
    """A key pasted with a curly quote or a newline: one line naming the variable, never the value, and no
    traceback (httpx raised UnicodeEncodeError from deep inside)."""
    bank = write_small_bank(tmp_path / "bank.yaml", n=2, langs=("en",))
    secret = bad + secrets.token_hex(8)
    if "\x00" in secret:
        # an environment variable cannot hold NUL: check the adapter directly
        from glasnost.errors import ConfigError
        from glasnost.targets.openai_compat import OpenAICompatTarget
        from glasnost.targets.spec import parse_target

        target = OpenAICompatTarget(parse_target("openai-compat:http://h.example/v1#m?key_env=K"),
                                    environ={"K": secret})
        with pytest.raises(ConfigError) as info:
            target._open()
        assert secret not in str(info.value) and "K" in str(info.value)
        return
    result = run_cli("run", "--target", f"openai-compat:http://127.0.0.1:9/v1#m?key_env={KEY_VAR}",
                     "--bank", str(bank), "--lang", "en", "--db", str(tmp_path / "g.db"), "--judge", "none",
                     "--report", "", env={KEY_VAR: secret})
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and KEY_VAR in lines[0], result.stderr
    assert secret not in result.stderr + result.stdout and "Traceback" not in result.stderr
