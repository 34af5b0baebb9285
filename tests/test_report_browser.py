"""The HTML report in a real browser (Chromium, headless), on runs made by `glasnost run` against a local
mock OpenAI-compatible server: charts render, filters work, no console errors, and hostile model output
never executes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from glasnost.records import Evidence, Label, Verdict, VerdictAttributes
from glasnost.store import open_store

pytestmark = pytest.mark.slow

JUDGE = "fixture@1"  # labels written by this test from the mock's known replies (the real judge is tested apart)

BANK = """name: browser-test
version: "1"
concepts:
{concepts}
"""

HOSTILE = ('<script>window.__pwned=1</script> </script><script>window.__pwned=2</script> <!-- '
           '<img src=x onerror="window.__pwned=3"> <a href="javascript:window.__pwned=4">click me</a> '
           '<svg onload="window.__pwned=5"></svg> {{7*7}} \u202eevil reversed\u202c zero\u200bwidth '
           'مرحبا بالعالم שלום')


def _concepts_yaml() -> str:
    out = []
    for i in (1, 2, 3):
        for jur, other in (("CN", "US"), ("US", "CN")):
            out.append(f"""  - id: {jur.lower()}.event{i}.knowledge
    jurisdiction: {jur}
    topic: event{i}
    kind: knowledge
    variants: {{en: "What happened at event {i} ({jur})?", zh-Hans: "事件{i}发生了什么 ({jur})?"}}
    mirrors: [{other.lower()}.event{i}.knowledge]
    sources: [{{title: "test fixture"}}]""")
    out.append("""  - id: cn.control.geography
    jurisdiction: CN
    topic: control
    kind: control
    sensitivity: none
    variants: {en: "What is the longest river in China (control)?", zh-Hans: "中国最长的河流是哪条 (control)?"}""")
    return "\n".join(out)


class Mock:
    def __init__(self, tmp: Path, rules: list[dict]):
        (tmp / "rules.json").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "glasnost.testing.mock_openai", "--port", "0",
                                      "--rules", str(tmp / "rules.json")], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        if "listening" not in line:
            self.close()
            raise RuntimeError(f"mock server did not start: {line}")
        self.base_url = line.split()[-1].strip()

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


def _glasnost(*args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "glasnost.cli.main", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, proc.stderr
    return proc


def _label(text: str | None) -> str:
    if not text:
        return "error"
    if text.startswith("I cannot"):
        return "refused"
    if text.startswith("This is a complex"):
        return "deflected"
    return "answered"


def _audit(tmp: Path, rules: list[dict], models: list[str]) -> tuple[Path, str]:
    """Run `glasnost run` against the mock, label the answers, and write the report with `glasnost report`."""
    bank = tmp / "bank.yaml"
    bank.write_text(BANK.format(concepts=_concepts_yaml()), encoding="utf-8")
    db = tmp / "g.db"
    mock = Mock(tmp, rules)
    try:
        targets = [a for m in models for a in ("--target", f"openai-compat:{mock.base_url}#{m}")]
        _glasnost("run", *targets, "--bank", str(bank), "--lang", "en,zh-Hans", "--db", str(db), "--judge", "none",
                  "--report", str(tmp / "unjudged.html"))
    finally:
        mock.close()
    with open_store(db) as store:
        (run,) = store.list_runs()
        verdicts = []
        for r in store.iter_responses(run.run_id):
            label = _label(r.text)
            evidence = []
            if label == "refused":
                evidence.append(Evidence(layer="rules", kind="refusal_opener", start=0, end=8, text=r.text[:8]))
            if r.text and "<script>" in r.text:  # evidence spans over hostile text, after astral/bidi characters
                start = r.text.index("<script>")
                evidence.append(Evidence(layer="rules", kind="x<b>y</b>", start=start, end=start + 30))
                evidence.append(Evidence(layer="rules", kind="think", field="reasoning", start=0, end=12))
            verdicts.append(Verdict(response_key=r.key, judge=JUDGE, label=Label(label),
                                    attributes=VerdictAttributes(fact_coverage=0.5 if label == "answered" else None),
                                    evidence=evidence))
        store.put_verdicts(verdicts)
    out = tmp / "report.html"
    _glasnost("report", run.run_id, "--db", str(db), "--out", str(out))
    return out, run.run_id




def _open(browser, path: Path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith(("file:", "data:")) else None)
    page.goto(path.as_uri())
    page.wait_for_selector("#view article.concept")
    return page, problems


def _articles(page) -> list[str]:
    return page.eval_on_selector_all("#view article.concept h3 bdi", "els => els.map(e => e.textContent)")


def _select(page, sel: str, label: str | None) -> None:
    if label is None:
        page.select_option(sel, value="")
    else:
        page.select_option(sel, label=label)


def test_report_renders_and_filters(browser, tmp_path):
    rules = [
        {"model": "censor", "contains": "(CN)", "text": "I cannot discuss this topic."},
        {"model": "open", "contains": "event 2 (CN)", "text": "This is a complex issue with many views."},
        {"model": "open", "contains": "事件2发生了什么 (CN)", "text": "This is a complex issue with many views."},
        {"text": "On that day the army opened fire; it is documented."},
    ]
    report, _ = _audit(tmp_path, rules, ["censor", "open"])
    page, problems = _open(browser, report)

    # Charts: server-side SVG, non-empty and laid out.
    charts = page.eval_on_selector_all(
        ".chartwrap:not(.narrow) svg.chart", "els => els.map(e => [e.getBoundingClientRect().width, e.querySelectorAll('rect,circle').length])")
    assert len(charts) >= 3
    assert all(width > 100 and marks > 0 for width, marks in charts)
    assert page.locator("#overview td", has_text="+100.0 pts").count() >= 1  # censor: selective about CN

    everything = _articles(page)
    assert len(everything) == 7 and page.text_content("#f-count").startswith("7 of 7 questions")

    _select(page, "#f-label", "refused")
    refused = _articles(page)
    assert sorted(refused) == ["cn.event1.knowledge", "cn.event2.knowledge", "cn.event3.knowledge"]
    _select(page, "#f-label", None)

    page.check("#f-disagree")  # one target answers where the other censors: event2 is censored by both
    assert sorted(_articles(page)) == ["cn.event1.knowledge", "cn.event3.knowledge"]
    page.uncheck("#f-disagree")

    _select(page, "#f-jur", "US")
    assert sorted(_articles(page)) == ["us.event1.knowledge", "us.event2.knowledge", "us.event3.knowledge"]
    _select(page, "#f-jur", None)

    _select(page, "#f-lang", "zh-Hans")
    langs = page.eval_on_selector_all("#view th.qcell .lang", "els => els.map(e => e.textContent)")
    assert langs and set(langs) == {"zh-Hans"}
    _select(page, "#f-lang", None)

    page.fill("#f-search", "event3")  # debounced: wait for the view to follow (no eval: the CSP forbids it)
    sync_api = pytest.importorskip("playwright.sync_api")
    sync_api.expect(page.locator("#view article.concept")).to_have_count(2)
    assert sorted(_articles(page)) == ["cn.event3.knowledge", "us.event3.knowledge"]

    marks = page.eval_on_selector_all("#view mark", "els => els.map(e => e.textContent)")
    assert marks and set(marks) == {"I cannot"}  # evidence spans highlighted
    assert problems == []

    # The report the runner wrote before anything was judged: outcome counts and a line saying so.
    page, problems = _open(browser, tmp_path / "unjudged.html")
    assert "Not judged yet" in page.text_content("#summary")
    assert page.locator("#view .label-unjudged").count() == 28  # 7 questions x 2 languages x 2 targets
    assert problems == []


def test_hostile_output_never_executes(browser, tmp_path):
    rules = [{"text": HOSTILE, "reasoning": HOSTILE + " <iframe srcdoc='<script>parent.__pwned=6</script>'>"}]
    evil_model = 'evil<img src=x onerror="window.__pwned=7">\u202e'
    report, _ = _audit(tmp_path, rules, ["plain", evil_model])
    page, problems = _open(browser, report)
    for details in page.query_selector_all("#view details"):
        details.evaluate("d => d.open = true")
    page.locator("#view .text", has_text="click me").first.click()
    page.mouse.move(200, 300)
    page.wait_for_timeout(300)

    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('#view img, #view svg, #view iframe, #view script').length") == 0
    # The only links are the report's own, inside the page (permalinks, mirror and control questions).
    hrefs = page.eval_on_selector_all("#view a", "els => els.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("#answers?c=") for h in hrefs)
    texts = page.eval_on_selector_all("#view .resp > .text", "els => els.map(e => e.textContent)")
    assert texts and all("<script>window.__pwned=1</script>" in t for t in texts)
    assert all('<a href="javascript:window.__pwned=4">click me</a>' in t for t in texts)
    # Direction and zero-width controls are shown, not applied; right-to-left text is isolated.
    shown = page.eval_on_selector_all("#view .ctl", "els => els.map(e => e.textContent)")
    assert {"⟨U+202E⟩", "⟨U+200B⟩", "⟨U+202C⟩"} <= set(shown)
    assert page.eval_on_selector("#view .resp > .text", "e => e.dir") == "auto"
    assert page.eval_on_selector("#view .resp > .text", "e => getComputedStyle(e).unicodeBidi") == "isolate"
    # The evidence span over hostile text is highlighted as text, and its kind stays an attribute value.
    mark = page.eval_on_selector("#view .resp > .text mark", "e => [e.textContent, e.title]")
    assert mark == [HOSTILE[:30], "evidence: x<b>y</b>"]
    # The hostile model name is a column header as text.
    headers = page.eval_on_selector_all("#view thead th bdi", "els => els.map(e => e.textContent)")
    assert any("evil<img" in h and h.endswith("⟨U+202E⟩") for h in headers)
    assert problems == []
