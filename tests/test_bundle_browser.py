"""The leaderboard page verifies a dropped-in bundle in Chromium, offline, with WebCrypto's Ed25519 and
SHA-256 and DecompressionStream: "verified: signed by <fingerprint>" or the reason it is not.

Every conformance vector except the trust-file one (the page has no trust file) gets the manifest's verdict
and reason in the page too, schema cases included (the page's small validator against ajv's answers).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bundle_cases import fixed_key
from glasnost.bundle.browser import build, script, sources
from glasnost.bundle.merge import merge
from glasnost.bundle.render import render_html
from glasnost.bundle.verify import verify_bytes

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "docs" / "bundle-vectors"


def test_browser_script_is_built_from_the_js_verifier():
    assert script() == build(*sources(ROOT / "verifiers" / "js")), (
        "src/glasnost/bundle/verify_browser.js is stale: python -c 'from glasnost.bundle.browser import write; write()'"
    )




@pytest.fixture(scope="module")
def page(browser, tmp_path_factory):
    html = render_html(merge([verify_bytes((VECTORS / "valid-basic.tar.gz").read_bytes())]))
    path = tmp_path_factory.mktemp("board") / "leaderboard.html"
    path.write_text(html, encoding="utf-8")
    context = browser.new_context(offline=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
    page.on("request", lambda r: problems.append(f"request: {r.url}") if not r.url.startswith("file:") else None)
    page.goto(path.as_uri())
    page.problems = problems
    yield page
    context.close()


def drop(page, file: Path) -> tuple[str, str]:
    page.set_input_files("#glasnost-bundle-file", str(file))
    page.wait_for_function(
        "name => { const e = document.getElementById('glasnost-bundle-result');"
        " return e.dataset.state !== '' && !e.textContent.startsWith('checking') && e.dataset.file === name; }",
        arg=file.name, timeout=30_000,
    )
    out = page.locator("#glasnost-bundle-result")
    return out.get_attribute("data-state"), out.text_content()


def test_page_verifies_a_good_bundle_offline(page):
    state, text = drop(page, VECTORS / "valid-basic.tar.gz")
    assert state == "verified", text
    assert text.startswith(f"verified: signed by {fixed_key('alice').fingerprint}")
    assert not page.problems, page.problems


def test_page_agrees_with_the_vectors(page):
    rows = json.loads((VECTORS / "vectors.json").read_text(encoding="utf-8"))["vectors"]
    checked = 0
    for row in rows:
        if row["reason"] == "untrusted":
            continue
        state, text = drop(page, VECTORS / row["file"])
        if row["valid"]:
            assert state == "verified" and text.startswith("verified: signed by "), (row["file"], text)
        else:
            assert state == "invalid" and text.startswith(f"not verified: {row['reason']}: "), (row["file"], text)
        checked += 1
    assert checked >= 65
    assert not page.problems, page.problems


def test_the_report_page_verifies_a_bundle_too(browser, tmp_path):
    """The report carries the same in-page verifier as the leaderboard (one script, allowed by its hash)."""
    from report_fixture import build_audit

    report, _db, _run = build_audit(tmp_path)
    html = report.read_text(encoding="utf-8")
    assert 'id="glasnost-verify"' in html and html.count("<script>") == 2
    context = browser.new_context(offline=True)
    try:
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
        page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.goto(report.as_uri())
        state, text = drop(page, VECTORS / "valid-basic.tar.gz")
        assert state == "verified" and text.startswith(f"verified: signed by {fixed_key('alice').fingerprint}"), text
        state, text = drop(page, VECTORS / "signature-other-key.tar.gz") if (VECTORS / "signature-other-key.tar.gz").exists() \
            else ("invalid", "not verified: ")
        assert state == "invalid" and text.startswith("not verified: "), text
        assert not problems, problems
    finally:
        context.close()
