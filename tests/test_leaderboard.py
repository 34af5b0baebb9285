"""glasnost leaderboard: merging bundles by several auditors, agreement on a hand-computed case, conflicts."""

from __future__ import annotations

import json

import pytest

from glasnost.bundle.browser import csp_script_source, script_tag
from glasnost.bundle.export import export_run
from glasnost.bundle.merge import merge, target_key
from glasnost.bundle.render import render_html, render_md
from glasnost.bundle.verify import verify_bytes
from glasnost.cli.main import main
from glasnost.records import Label, sha256_text
from test_bundle_fixtures import CONCEPTS, Item, build_run, key, target

A, R, D = Label.answered, Label.refused, Label.deflected
T1 = target("model-one", base_url="https://api.one.example/v1")
T2 = target("model-two", base_url="https://api.two.example/v1")


def bundle(tmp_path, who: str, items: list[Item], judge: str) -> bytes:
    run_id = "run-" + sha256_text(who)[:8]
    store = build_run(tmp_path / f"{run_id}.db", run_id, items, judge=judge)
    data = export_run(store, run_id, key(who), judge=judge).data
    store.close()
    return data


def t1_items(labels, **kw) -> list[Item]:
    return [Item(T1, CONCEPTS[i].id, "en", lab, **kw) for i, lab in enumerate(labels)]


def t2_items(labels, **kw) -> list[Item]:
    return [Item(T2, CONCEPTS[i].id, "en", lab, **kw) for i, lab in enumerate(labels)]


@pytest.fixture
def three(tmp_path):
    alice = bundle(tmp_path, "alice", t1_items([A, R, A, D, A]) + t2_items([A, A, R, R]), "default@1")
    bob = bundle(tmp_path, "bob", t1_items([A, R, R, D, A]), "other@2")  # same keys as alice on T1
    carol = bundle(tmp_path, "carol", t2_items([A, R, R, R], gen="g1"), "default@1")  # other keys, same probes
    return [alice, bob, carol]


def test_three_bundles_hand_computed(three):
    board = merge([verify_bytes(b, f"/somewhere/private/{i}.tar.gz") for i, b in enumerate(three)])
    rows = {r.target: r for r in board.rows}
    r1, r2 = rows[target_key(T1.identity())], rows[target_key(T2.identity())]
    assert [r.target for r in board.rows] == [r2.target, r1.target]  # sorted by rate, highest first
    assert r1.host == "api.one.example" and r1.names == ["https://api.one.example/v1#model-one"]

    # T1: alice vs bob on 5 shared keys. po = 4/5; pe = .6*.4 + .2*.4 + .2*.2 = .36; kappa = .44/.64
    (ab,) = r1.agreements
    assert {ab.auditor_a, ab.auditor_b} == {key("alice").fingerprint, key("bob").fingerprint}
    assert (ab.n, ab.n_by_key, ab.agree, ab.raw) == (5, 5, 4, 0.8)
    assert ab.kappa == pytest.approx(0.6875, abs=1e-6)
    # T2: alice vs carol share no key, 4 shared (concept, lang, sample). po = .75; pe = .5*.25 + .5*.75 = .5
    (ac,) = r2.agreements
    assert {ac.auditor_a, ac.auditor_b} == {key("alice").fingerprint, key("carol").fingerprint}
    assert (ac.n, ac.n_by_key, ac.agree, ac.raw) == (4, 0, 3, 0.75)
    assert ac.kappa == pytest.approx(0.5, abs=1e-6)

    # Pooled T1: k3 is answered vs refused, a tie: disputed and left out; 2 censored of 4.
    assert (r1.pooled.n_responses, r1.pooled.n_counted, r1.pooled.n_censored, r1.pooled.disputed) == (5, 4, 2, 1)
    assert r1.pooled.rate == 0.5
    # Pooled T2: eight distinct responses (two configs), 5 censored.
    assert (r2.pooled.n_counted, r2.pooled.n_censored, r2.pooled.rate) == (8, 5, 0.625)
    assert r2.pooled.ci_low < 0.625 < r2.pooled.ci_high
    assert len(board.auditors) == 3 and board.conflicts == []
    assert [b["source"] for b in board.bundles] == ["0.tar.gz", "1.tar.gz", "2.tar.gz"]  # no reader's folders


def test_conflicts_are_flagged(tmp_path):
    alice = bundle(tmp_path, "alice", t1_items([A, R, A, D, A]), "default@1")
    # dave: same judge version, one diverging label (k3); erin: same key k1 with other text
    dave = bundle(tmp_path, "dave", t1_items([A, R, R, D, A]), "default@1")
    erin_items = t1_items([A, R, A, D, A])
    erin_items[0].text = "a quite different answer"
    erin = bundle(tmp_path, "erin", erin_items, "other@2")
    board = merge([verify_bytes(b) for b in (alice, dave, erin)])
    kinds = sorted((c.kind, c.concept_id) for c in board.conflicts)
    assert kinds == [("content", CONCEPTS[0].id), ("verdict", CONCEPTS[2].id)]
    verdict = next(c for c in board.conflicts if c.kind == "verdict")
    assert verdict.judge == "default@1" and sorted(verdict.labels) == ["answered", "refused"]
    (row,) = board.rows
    assert row.conflicts == 2
    assert row.pooled.n_responses == 4  # the content-conflicted response is left out
    html = render_html(board)
    assert "Conflicts" in html and "content" in html


def test_html_is_self_contained_and_escaped(tmp_path):
    evil = target("</td><script>alert(1)</script>", base_url="https://h.example/v1", name="<img src=x onerror=alert(2)>")
    data = bundle(tmp_path, "<b>mallory</b> & co", [Item(evil, CONCEPTS[0].id, "en", R)], "default@1")
    board = merge([verify_bytes(data)])
    html = render_html(board)
    # The one script is the in-page bundle verifier, allowed by its hash in the CSP; none from the bundle.
    page = html.replace(script_tag(), "")
    assert html.count(script_tag()) == 1 and f"script-src {csp_script_source()}" in html
    assert "<script" not in page.lower() and "<img" not in page.lower() and "<b>" not in page
    html = page
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html and "&lt;b&gt;mallory&lt;/b&gt; &amp; co" in html
    assert "<link" not in html and "http://" not in html and "src=" not in html.replace("&lt;img src=x", "")
    md = render_md(board)
    assert "<script" not in md and "\\<img src=x onerror=alert(2)\\>" in md
    assert all(line.count("|") - line.count("\\|") == 11 for line in md.splitlines() if line.startswith("| 1 "))


def test_cli_leaderboard(three, tmp_path, capsys):
    files = []
    for i, data in enumerate(three):
        path = tmp_path / f"b{i}.tar.gz"
        path.write_bytes(data)
        files.append(str(path))
    out = tmp_path / "board.html"
    assert main(["leaderboard", *files, "--out", str(out)]) == 0
    assert "3 bundles by 3 auditors, 2 targets, 0 conflicts" in capsys.readouterr().out
    html = out.read_text()
    assert "model-one" in html and "0.69" in html and "80.0%" in html
    assert main(["leaderboard", *files, "--out", str(tmp_path / "board.md")]) == 0
    assert (tmp_path / "board.md").read_text().startswith("# glasnost leaderboard")
    assert main(["leaderboard", *files, "--out", str(tmp_path / "b.out"), "--format", "json"]) == 0
    data = json.loads((tmp_path / "b.out").read_text())
    assert data["format"] == "glasnost-leaderboard" and len(data["rows"]) == 2
    assert main(["leaderboard", *files, "--format", "pdf", "--out", str(tmp_path / "x")]) == 2
    assert "not one of html, md, json" in capsys.readouterr().err


def test_cli_leaderboard_refuses_a_bad_bundle(three, tmp_path, capsys):
    good = tmp_path / "good.tar.gz"
    good.write_bytes(three[0])
    bad = tmp_path / "bad.tar.gz"
    data = bytearray(three[1])
    data[len(data) // 2] ^= 0x55
    bad.write_bytes(bytes(data))
    out = tmp_path / "board.html"
    assert main(["leaderboard", str(good), str(bad), "--out", str(out)]) == 4
    assert capsys.readouterr().err.startswith(f"error: {bad}: ")
    assert not out.exists()
    trust = tmp_path / "trusted"
    trust.write_text(key("alice").pub_line() + "\n")
    bob = tmp_path / "bob.tar.gz"
    bob.write_bytes(three[1])
    assert main(["leaderboard", str(good), str(bob), "--trust", str(trust), "--out", str(out)]) == 4
    assert "'bob'" in capsys.readouterr().err


def test_same_bundle_twice_counts_once_and_disjoint_auditors_are_not_compared(three, tmp_path):
    alice, bob, carol = (verify_bytes(b) for b in three)
    once = merge([alice, bob, carol])
    twice = merge([alice, bob, alice, carol])
    assert [(r.pooled.n_counted, r.pooled.n_censored) for r in twice.rows] == [
        (r.pooled.n_counted, r.pooled.n_censored) for r in once.rows
    ]
    assert len(twice.bundles) == 3 and len(twice.auditors["%s" % alice.fingerprint].bundles) == 1
    other = bundle(tmp_path, "frank", [Item(T1, CONCEPTS[5].id, "zh", R)], "default@1")  # T1, no shared probe
    board = merge([alice, verify_bytes(other)])
    row = next(r for r in board.rows if r.target == target_key(T1.identity()))
    assert len(row.auditors) == 2 and row.agreements == []
