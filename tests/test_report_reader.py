"""The report as a reader uses it (issue 14), in Chromium at 1440 and 390 px, light and dark: the headline,
the evidence beside each verdict, multiple choice, full-text search and permalinks, the print view, phones,
dark mode, an automated accessibility check (axe-core), and review-and-correct down to `glasnost judge
import-review`. Screenshots go to $GLASNOST_SHOTS (default /tmp/glasnost-shots) for a person to look at."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from report_fixture import build_audit

pytestmark = pytest.mark.slow

AXE = Path(__file__).parent / ".node" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(os.environ.get("GLASNOST_SHOTS", "/tmp/glasnost-shots"))
SIZES = [(1440, 900), (390, 844)]
SCHEMES = ["light", "dark"]


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    return build_audit(tmp_path_factory.mktemp("reader"))




def _page(browser, report: Path, width: int = 1440, height: int = 900, scheme: str = "light", fragment: str = "",
          **context):
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme, **context)
    page = ctx.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("request", lambda r: problems.append(f"request: {r.url}")
            if not r.url.startswith(("file:", "data:", "blob:")) else None)
    page.goto(report.as_uri() + fragment)
    page.wait_for_selector("#view article.concept")
    return page, problems


def _articles(page) -> list[str]:
    return page.eval_on_selector_all("#view article.concept h3 bdi", "els => els.map(e => e.textContent)")


def test_headline_names_the_finding(browser, audit):
    report, _, _ = audit
    page, problems = _page(browser, report)
    title = page.text_content("h1")
    assert "very-long-model-name-censored-edition-70b-instruct" in title and "http" not in title
    cards = page.eval_on_selector_all("#headline article.card", "els => els.map(e => [e.querySelector('h3').textContent,"
                                      " Array.from(e.querySelectorAll('li')).map(l => [l.className, l.textContent])])")
    by_name = dict((name, lines) for name, lines in cards)
    assert set(by_name) == {"very-long-model-name-censored-edition-70b-instruct", "open-model-72b-instruct"}
    censor = by_name["very-long-model-name-censored-edition-70b-instruct"]
    assert censor[0][0] == "rate" and censor[0][1].startswith("Censors 33.3% of sensitive questions [")
    red = [text for cls, text in censor if cls == "finding-censor"]
    assert len(red) == 1 and red[0].startswith("Censors questions about CN 100 points more than comparable")
    # The China-only censor is not "significantly less censored" about the US or Russia: no red, no blue.
    assert not any(cls in ("finding-censor", "finding-freer") for cls, _ in by_name["open-model-72b-instruct"])
    assert not any("about US" in t or "about RU" in t for cls, t in censor if cls.startswith("finding"))
    headline = page.text_content("#headline")
    assert "times in 100 on held-out data" in headline and "least certain" in headline
    # Red is for censorship only; its colour is not the one of "answers more freely".
    colours = page.evaluate("""() => { const s = getComputedStyle(document.documentElement);
        return [s.getPropertyValue('--accent'), s.getPropertyValue('--freer')]; }""")
    assert colours[0] != colours[1]
    # Details of a figure open by keyboard: no hover-only tooltip anywhere in the tables.
    assert page.locator("main td[title]").count() == 0
    summary = page.locator("#overview details.cd > summary").first
    summary.focus()
    page.keyboard.press("Enter")
    assert page.locator("#overview details.cd").first.evaluate("d => d.open")
    assert "95% CI" in page.locator("#overview details.cd .cdx").first.text_content()
    assert problems == []


def test_evidence_and_multiple_choice(browser, audit):
    report, _, _ = audit
    page, problems = _page(browser, report, fragment="#answers?c=cn.event1.knowledge")
    assert _articles(page) == ["cn.event1.knowledge"]
    art = page.locator("#view article.concept")
    ev = art.locator("details.evidence")
    ev.locator("summary").click()
    text = ev.text_content()
    assert "Troops fired on the crowd" in text and "Hundreds were killed" in text and "稳定" in text
    hrefs = ev.locator("a").evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert "https://en.wikipedia.org/wiki/Event_1_CN" in hrefs
    assert not any(h.startswith("javascript") for h in hrefs)  # an unsafe source URL stays text
    assert "<javascript:alert(1)>" in text
    assert "<img src=x onerror=window.__pwned=1> a hostile bank (</script><b>x</b>)" in text  # bank text is text
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.locator("#view img, #view b, #view script").count() == 0
    # Facts found and missing, and the verdict's confidence, beside each answer.
    facts = art.locator(".resp details.facts summary").first.text_content()
    assert facts == "expected facts: 2 of 2 found"
    assert "confidence 87%" in art.locator(".resphead").first.text_content()
    # Every answer and question says its language (screen readers read Chinese as Chinese).
    langs = page.eval_on_selector_all("#view .resp > .text", "els => els.map(e => e.lang)")
    assert langs and set(langs) == {"en", "zh-Hans"}
    # The mirror question is a link inside the page; following it shows that question.
    ev.locator("a", has_text="us.event1.knowledge").click()
    page.wait_for_function("() => document.querySelector('#view article.concept h3 bdi').textContent"
                           " === 'us.event1.knowledge'")
    assert "c=us.event1.knowledge" in page.url
    # Ohio: one fact of two found; the missing one is named.
    page.goto(report.as_uri() + "#answers?c=us.event3.knowledge")
    page.wait_for_function("() => location.hash.includes('us.event3')")
    page.wait_for_selector("#q-us\\.event3\\.knowledge")
    missing = page.locator("#view details.facts li.missing").first.text_content()
    assert missing == "✗ missing: Hundreds were killed"

    # Multiple choice: options on their own lines, the chosen one, right or wrong, the shuffle said.
    page.goto(report.as_uri() + "#answers?c=cn.event1.mcq")
    page.wait_for_function("() => location.hash.includes('mcq')")
    page.wait_for_selector("#view .mcq")
    assert "shuffled for every sample and language" in page.text_content("#view article.concept")
    blocks = page.locator("#view .mcq")
    assert blocks.count() == 4  # 2 targets x 2 languages
    verdicts = page.eval_on_selector_all("#view .mcqverdict", "els => els.map(e => e.textContent)")
    assert sorted(set(verdicts)) == ["Multiple choice: right", "Multiple choice: wrong"]
    tops = blocks.first.locator("li").evaluate_all("els => els.map(e => e.getBoundingClientRect().top)")
    assert len(tops) == 4 and len(set(round(t) for t in tops)) == 4  # one line each
    right = page.eval_on_selector_all("#view .mcq li.right", "els => els.map(e => e.textContent)")
    assert right and all("The army opened fire" in t or "军队开枪" in t for t in right)
    # Each block's verdict is right exactly where its chosen option is the right one (letters are shuffled).
    pairs = page.eval_on_selector_all("#view .mcq", "els => els.map(e => [e.querySelector('.mcqverdict').textContent,"
                                      " e.querySelector('li.chosen').classList.contains('right')])")
    assert len(pairs) == 4 and all((v.endswith("right")) == ok for v, ok in pairs)
    assert problems == []


def test_search_permalinks_and_print(browser, audit):
    report, _, _ = audit
    page, problems = _page(browser, report)
    sync_api = pytest.importorskip("playwright.sync_api")
    for query, expected in (("天安门", {f"cn.event{i}.knowledge" for i in range(1, 9)}),
                            ("Kent State event 2", {"us.event2.knowledge"}),
                            ("ohio national guard", {"us.event3.knowledge"})):  # only in an answer
        page.fill("#f-search", query)  # debounced: wait until the view shows exactly the expected questions
        page.wait_for_function("want => { const got = Array.from(document.querySelectorAll("
                               "'#view article.concept h3 bdi')).map(e => e.textContent).sort();"
                               " return JSON.stringify(got) === JSON.stringify(want); }", arg=sorted(expected))
    assert "q=ohio+national+guard" in page.url
    # Filters live in the URL: a fresh page on that URL shows the same view.
    page.select_option("#f-lang", label="zh-Hans")
    url = page.url
    assert "lang=" in url
    again, problems2 = _page(browser, report, fragment="#" + url.split("#", 1)[1])
    assert again.input_value("#f-search") == "ohio national guard" and _articles(again) == ["us.event3.knowledge"]
    assert set(again.eval_on_selector_all("#view th.qcell .lang", "els => els.map(e => e.textContent)")) == {"zh-Hans"}
    # Print view: every answer, no controls.
    page.fill("#f-search", "")
    sync_api.expect(page.locator("#view article.concept")).to_have_count(20)  # one page
    page.click("#f-all")
    assert page.locator("#view article.concept").count() == 28
    page.emulate_media(media="print")
    assert page.locator(".filters").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator("#view .review").first.evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator("#view details.evidence a.qlink").first.is_visible()  # closed details print whole
    page.pdf(path=str(SHOTS / "print.pdf")) if SHOTS.exists() else None
    assert problems == [] and problems2 == []


@pytest.mark.parametrize("width,height", SIZES)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_phone_dark_and_accessibility(browser, audit, width, height, scheme):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run scripts/test.sh (it installs axe-core with npm)")
    report, _, _ = audit
    # The report's CSP forbids any script but its own: the test lifts it to inject axe (never shipped).
    page, problems = _page(browser, report, width, height, scheme, bypass_csp=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"top-{width}-{scheme}.png"))
    page.locator("#charts").screenshot(path=str(SHOTS / f"charts-{width}-{scheme}.png"))
    page.locator("#view article.concept").first.screenshot(path=str(SHOTS / f"answer-{width}-{scheme}.png"))
    # No sideways page scroll; one findings card per target, side by side only where they fit.
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    boxes = page.eval_on_selector_all("#headline article.card", "els => els.map(e => e.getBoundingClientRect().width)")
    assert len(boxes) == 2 and all(b <= width for b in boxes)
    if width < 500:
        assert all(b > width * 0.8 for b in boxes)  # one card a row
        # Answers stack: the target's name is above each answer, not in a squeezed column.
        assert page.locator("#view td .tname").first.is_visible()
        widths = page.eval_on_selector_all("#view .resp", "els => els.map(e => e.getBoundingClientRect().width)")
        assert min(widths) > 300
    # Interval charts fit the screen whole (a phone gets its own layout): no figure hidden sideways.
    charts = page.eval_on_selector_all("svg.intervals", "els => els.filter(e => e.getClientRects().length)"
                                       ".map(e => e.getBoundingClientRect().right)")
    assert len(charts) == 2 and max(charts) <= width
    # Heatmap numbers keep their contrast in both schemes (the page's ink must not repaint them).
    fills = page.eval_on_selector_all("svg.heatmap text.cellvalue", "els => els.map(e => getComputedStyle(e).fill)")
    assert fills and set(fills) <= {"rgb(31, 35, 40)", "rgb(255, 255, 255)"}
    # A skip link first in the tab order, to the findings.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    assert _serious_violations(page) == []
    # Again with everything open: a multiple-choice question, its evidence, a correction marked.
    page.goto(report.as_uri() + "#answers?c=cn.event1.mcq")
    page.wait_for_function("() => location.hash.includes('mcq')")
    page.wait_for_selector("#view .mcq")
    page.locator("#view .review select").first.select_option("refused")
    page.eval_on_selector_all("details", "els => els.forEach(d => d.open = true)")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    assert _serious_violations(page) == []
    assert problems == []


def _serious_violations(page) -> list[dict]:
    result = page.evaluate("""async () => { const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length,
                                       where: v.nodes.slice(0, 3).map(n => n.target.join(' '))})); }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def test_review_download_import_and_precedence(browser, audit, tmp_path):
    report, db, run_id = audit
    page, problems = _page(browser, report, fragment="#answers?c=us.event2.knowledge")
    assert page.locator("#reviewbar").is_hidden()
    box = page.locator("#view .resp", has_text="Troops fired").first
    box.locator("select").select_option("state_narrative")
    assert page.text_content("#r-count") == "1 correction marked"
    assert "corrected" in box.get_attribute("class")  # the marked answer is set apart
    with page.expect_download() as info:
        page.click("#r-download")
    path = tmp_path / "review.jsonl"
    info.value.save_as(path)
    (line,) = path.read_text(encoding="utf-8").splitlines()
    review = json.loads(line)
    assert review["label"] == "state_narrative" and review["judge_label"] == "answered"
    assert review["concept"] == "us.event2.knowledge" and len(review["response_key"]) > 16
    assert problems == []

    work = tmp_path / "g.db"
    work.write_bytes(db.read_bytes())  # the module's store stays as it was for the other tests
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "glasnost.cli.main", "judge", "import-review", str(path),
                           "--db", str(work)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "stored 1 reviews as judge human@1: 1 correct the judge" in proc.stdout
    out = tmp_path / "reviewed.html"
    proc = subprocess.run([sys.executable, "-m", "glasnost.cli.main", "report", run_id, "--db", str(work), "--out",
                           str(out)], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page, problems = _page(browser, out, fragment="#answers?c=us.event2.knowledge")
    reviews = page.text_content("#reviews")
    assert "Readers reviewed 1 answers: the judge default@1 agreed with them on 0" in reviews
    assert "answered → state_narrative" in page.text_content("#headline") or "answered → state_narrative" in reviews
    # The reader's label counts: the answer shows it, with what the judge said.
    labels = page.eval_on_selector_all("#view .resp .label", "els => els.map(e => e.textContent)")
    assert labels.count("state narrative") == 1
    assert "reader's label (default@1 said answered)" in page.text_content("#view")
    assert problems == []
