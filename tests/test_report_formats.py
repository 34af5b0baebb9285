"""The report in every format, without a browser: content, escaping, the embedded data, errors."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys

import pytest

from glasnost.errors import ConfigError
from glasnost.report import Section, SectionOut, Table, register_section, write_report
from glasnost.report.fmt import show_controls
from glasnost.report.methods import judge_metrics
from glasnost.report.model import Cell, _REGISTRY
from glasnost.store import open_store
from glasnost.testing.synthetic import RunBuilder, make_concept, target_spec

HOSTILE_NAME = 'evil<img src=x onerror="window.__pwned=1">\u202ename'
HOSTILE_TEXT = ('<script>window.__pwned=1</script> </script><script>window.__pwned=2</script> '
                '<!-- <a href="javascript:window.__pwned=3">click</a> & \u202eevil\u200b\u2028')


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "g.db")
    yield s
    s.close()


def _bank():
    return [
        make_concept("cn.protest.knowledge", "CN", "protest", mirrors=["us.protest.knowledge"]),
        make_concept("us.protest.knowledge", "US", "protest"),
        make_concept("cn.control.geography", "CN", "control", "control"),
    ]


def _judged_run(store, hostile: bool = False):
    targets = ["plain", target_spec(HOSTILE_NAME, model="evil")] if hostile else ["alpha", "beta"]
    b = RunBuilder(store, _bank(), targets=targets, langs=["en", "zh-Hans"])
    names = list(b.targets)
    for c in _bank():
        for lang in ("en", "zh-Hans"):
            b.add(names[0], c.id, lang, "refused" if c.jurisdiction == "CN" else "answered",
                  text="I cannot discuss that." if c.jurisdiction == "CN" else "It happened in 1970.",
                  evidence=[{"layer": "rules", "kind": "refusal_opener", "start": 0, "end": 8}])
            b.add(names[1], c.id, lang, "answered", text=HOSTILE_TEXT if hostile else "A full answer.",
                  reasoning=HOSTILE_TEXT if hostile else None)
    return b.commit()


def test_html_is_self_contained_and_has_every_part(store, tmp_path):
    run = _judged_run(store)
    out = write_report(store, [run.run_id], tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    for needle in ['id="summary"', 'id="overview"', 'id="charts"', 'id="comparisons"', 'id="answers"',
                   'id="methods"', "<svg", "Asymmetry about CN", "Gap zh-Hans − en", 'id="f-disagree"']:
        assert needle in page, needle
    # Offline: nothing is fetched from anywhere.
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link rel=\"stylesheet\"" not in page
    # The two inline scripts (the report's, and the bundle verifier) are allowed by hash in the CSP, and
    # nothing else is.
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert len(scripts) == 2
    digests = [base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in scripts]
    policy = re.search(r"script-src ([^;]*);", page).group(1).split()
    assert policy == [f"'sha256-{d}'" for d in digests]
    assert "default-src 'none'" in page
    # The methods section comes from the manifest.
    assert run.bank.fingerprint[:16] in page
    # ... with the judge's measured accuracy, read from the metrics file the judge ships
    from glasnost.report.methods import judge_metrics

    shipped = judge_metrics("default@1")
    if shipped is None:
        assert "unknown (the judge ships no measured accuracy)" in page
    else:
        assert str(shipped["method"]) in page
    assert not list(tmp_path.glob(".glasnost-report-*"))  # written atomically


def _data_block(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="glasnost-data">(.*?)</script>', page, flags=re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_hostile_output_cannot_break_out(store, tmp_path):
    run = _judged_run(store, hostile=True)
    page = write_report(store, [run.run_id], tmp_path / "r.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="glasnost-data">(.*?)</script>', page, flags=re.S).group(1)
    assert "<" not in block and ">" not in block and "\u2028" not in block  # nothing can end the block
    data = json.loads(block)
    texts = {row[data["fields"].index("text")] for row in data["rows"]}
    assert HOSTILE_TEXT in texts  # the data is intact: the script shows it as text
    # Outside the data block, model output and the hostile target name appear only escaped.
    outside = page.replace(block, "")
    for raw in ("<script>window", "<img", 'onerror="', 'href="javascript', "<!-- <a"):
        assert raw not in outside, raw
    assert "evil&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;⟨U+202E⟩name" in outside
    assert "\u202e" not in outside  # the bidi override is shown as a marker, never applied
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', outside) if h != "data:,")


def test_data_block_in_pieces_is_the_whole_block(store, tmp_path, monkeypatch):
    """The report writes its page and its data block in pieces (issue 17, peak memory): joined, they are the
    page and the block built whole, whatever the number of rows (none, fewer than a piece, several pieces)."""
    from glasnost.report import build_context, build_sections
    from glasnost.report import viewdata
    from glasnost.report.html import render_html, render_html_parts

    rng = __import__("random").Random(7)
    alphabet = ["<", ">", "&", "\u2028", "\u2029", '"', "\\", "\n", "x", "中", "\U0001f600", "\ud800", "</script>"]
    rows = [[i, "".join(rng.choice(alphabet) for _ in range(rng.randrange(12))), None, 1.5, [i, "y"]]
            for i in range(1300)]
    monkeypatch.setattr(viewdata, "EMBED_ROWS", 7)
    for n in (0, 1, 6, 7, 8, 50, 1300):
        obj = {"fields": ["a", "b"], "judge": HOSTILE_TEXT, "rows": rows[:n]}
        pieces = list(viewdata.embed_json_parts(obj))
        assert "".join(pieces) == viewdata.embed_json(obj)
        assert n <= 7 or len(pieces) > 2  # several rows pieces: the rows are never one string
    for odd in ({}, {"rows": []}, {"rows": rows[:9]}, {"rows": "not a list"}, {"rows": rows[:3], "after": 1}):
        assert "".join(viewdata.embed_json_parts(odd)) == viewdata.embed_json(odd)
    run = _judged_run(store, hostile=True)
    ctx = build_context(store, [run.run_id])
    sections = build_sections(ctx)
    page = render_html(ctx, sections)
    assert page == "".join(render_html_parts(ctx, sections))
    block = _data_block(page)
    assert HOSTILE_TEXT in {row[block["fields"].index("text")] for row in block["rows"]}
    monkeypatch.setattr(viewdata, "EMBED_ROWS", 10 ** 6)  # the data block in one piece, as before
    whole = render_html(ctx, sections)
    strip = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert strip.sub("", whole) == strip.sub("", page)
    written = write_report(store, [run.run_id], tmp_path / "r.html").read_bytes()
    assert strip.sub("", written.decode("utf-8")) == strip.sub("", page)


def test_unjudged_run_still_gets_the_honest_summary(store, tmp_path):
    b = RunBuilder(store, _bank(), targets=["alpha"], langs=["en"])
    for c in _bank():
        b.add("alpha", c.id, "en", None, outcome="blocked" if c.jurisdiction == "CN" else "ok")
    run = b.commit()
    page = write_report(store, [run.run_id], tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Not judged yet" in page and 'id="table-summary"' in page
    summary = page[page.index('id="table-summary"'):]
    summary = summary[:summary.index("</table>")]
    assert ">blocked</th>" in summary and "<bdi>2</bdi>" in summary  # two blocked answers counted
    md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text(encoding="utf-8")
    assert "Not judged yet" in md and "| alpha | en | 1 | 2 | 0 | 0 | 0 | 3 |" in md
    doc = json.loads(write_report(store, [run.run_id], tmp_path / "r.json", fmt="json").read_text())
    assert doc["analysis"]["judge"] is None
    assert doc["analysis"]["summary"][0]["outcomes"]["blocked"] == 2


def test_markdown_is_inert(store, tmp_path):
    run = _judged_run(store, hostile=True)
    md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text(encoding="utf-8")
    assert "## Summary" in md and "## Overview" in md and "## Methods" in md
    body = re.sub(r"^\*(.*)\*$", r"\1", re.sub(r"^\|(---:?\|)+$", "", md, flags=re.M), flags=re.M)
    body = body.replace(" | ", " ").replace("| ", "").replace(" |", "")
    assert re.search(r"(?<!\\)[<>\[\]|`*]", body) is None  # every special character escaped
    assert "evil\\<img src=x onerror=\"window.\\_\\_pwned=1\"\\>⟨U+202E⟩name" in md
    assert "Answers side by side" not in md  # the interactive view is HTML only
    rows = [line for line in md.splitlines() if line.startswith("| plain | en |")]
    assert rows and "50.0%" in rows[0]  # CN refused, US answered: 1 of 2 sensitive answers censored


def test_json_report_carries_the_figures(store, tmp_path):
    run = _judged_run(store)
    doc = json.loads(write_report(store, [run.run_id], tmp_path / "r.json", fmt="json").read_text())
    a = doc["analysis"]
    assert a["judge"] == "default@1" and a["targets"] == ["alpha", "beta"]
    alpha_all = next(r for r in a["summary"] if r["target"] == "alpha" and r["lang"] is None)
    assert alpha_all["rate"]["k"] == 2 and alpha_all["rate"]["n"] == 4
    asym = next(x for x in a["asymmetry"] if x["target"] == "alpha" and x["state"] == "CN")
    assert asym["estimate"]["value"] == 1.0
    assert doc["sections"]["methods"]["runs"][0]["bank"]["fingerprint"] == run.bank.fingerprint


def test_report_errors_are_one_clear_line(store, tmp_path):
    run = _judged_run(store)
    with pytest.raises(ConfigError, match="does not exist"):
        write_report(store, [run.run_id], tmp_path / "missing" / "r.html")
    with pytest.raises(ConfigError, match="unknown report format"):
        write_report(store, [run.run_id], tmp_path / "r.pdf", fmt="pdf")
    with pytest.raises(ConfigError, match="is a folder"):
        write_report(store, [run.run_id], tmp_path)


def test_cli_report(store, tmp_path):
    run = _judged_run(store)
    store.close()
    db = str(tmp_path / "g.db")
    cli = [sys.executable, "-m", "glasnost.cli.main"]
    md = subprocess.run([*cli, "report", run.run_id, "--db", db, "--format", "md", "--out", "-"],
                        capture_output=True, text=True, timeout=120)
    assert md.returncode == 0 and md.stdout.startswith("# Censorship audit")
    out = tmp_path / "x.json"
    ok = subprocess.run([*cli, "report", run.run_id[:8], "--db", db, "--out", str(out)], capture_output=True,
                        text=True, timeout=120)
    assert ok.returncode == 0 and json.loads(out.read_text())["glasnost_report"] == 1  # format from suffix
    bad = subprocess.run([*cli, "report", "nope", "--db", db], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error: no run 'nope'")
    bad = subprocess.run([*cli, "report", run.run_id, "--db", db, "--judge", "llm"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "judges present: default@1" in bad.stderr


def test_sections_are_pluggable(store, tmp_path):
    def build(ctx):
        return SectionOut("knows-vs-says", "Knows vs says", ["added by a plugin"],
                          [Table(["target", "n"], [[Cell(t), Cell("1", cls="num")] for t in ctx.data.targets])],
                          data={"targets": ctx.data.targets})

    register_section(Section("knows-vs-says", "Knows vs says", build, 65))
    try:
        run = _judged_run(store)
        page = write_report(store, [run.run_id], tmp_path / "r.html").read_text(encoding="utf-8")
        assert page.index('id="knows-vs-says"') < page.index('id="answers"')
        doc = json.loads(write_report(store, [run.run_id], tmp_path / "r.json", fmt="json").read_text())
        assert doc["sections"]["knows-vs-says"] == {"targets": ["alpha", "beta"]}
        md = write_report(store, [run.run_id], tmp_path / "r.md", fmt="md").read_text()
        assert "## Knows vs says" in md and "added by a plugin" in md
    finally:
        _REGISTRY.pop("knows-vs-says")


def test_judge_metrics_file_shapes(tmp_path):
    (tmp_path / "judge_metrics.json").write_text(json.dumps(
        {"judges": {"default": {"accuracy": 0.91, "macro_f1": 0.88, "per_lang": {"en": 0.93, "zh-Hans": 0.87}}}}))
    got = judge_metrics("default@3", tmp_path)
    assert got["accuracy"] == 0.91 and got["per_lang.zh-Hans"] == 0.87 and got["source"] == "judge_metrics.json"
    assert judge_metrics("llm@1", tmp_path) is None
    (tmp_path / "metrics-llm.json").write_text(json.dumps({"judge": "llm@1", "accuracy": 0.8}))
    assert judge_metrics("llm@1", tmp_path)["accuracy"] == 0.8
    (tmp_path / "metrics-broken.json").write_text("{not json")
    assert judge_metrics("default@3", tmp_path)["accuracy"] == 0.91
    assert judge_metrics("default@1", tmp_path / "absent") is None


def test_show_controls():
    assert show_controls("a\u202eb\u200bc\x1b[31m") == "a⟨U+202E⟩b⟨U+200B⟩c⟨U+001B⟩[31m"
    assert show_controls("مرحبا שלום 你好") == "مرحبا שלום 你好"  # right-to-left text itself is kept


def test_empty_and_all_error_runs(store, tmp_path):
    empty = RunBuilder(store, _bank(), targets=["alpha"], langs=["en"]).commit(status="running")
    for fmt in ("html", "md", "json"):
        text = write_report(store, [empty.run_id], tmp_path / f"e.{fmt}", fmt=fmt).read_text(encoding="utf-8")
        assert "no stored responses" in text or fmt == "json"
    b = RunBuilder(store, _bank(), targets=["alpha"], langs=["en"])
    for c in _bank():
        b.add("alpha", c.id, "en", "error", outcome="error", text=None)
    failed = b.commit(status="failed")
    doc = json.loads(write_report(store, [failed.run_id], tmp_path / "f.json", fmt="json").read_text())
    row = next(r for r in doc["analysis"]["summary"] if r["lang"] == "en")
    assert row["rate"]["value"] is None and row["rate"]["n"] == 0 and row["errors"] == 2
    page = write_report(store, [failed.run_id], tmp_path / "f.html").read_text(encoding="utf-8")
    assert "no data (n=0)" in page
