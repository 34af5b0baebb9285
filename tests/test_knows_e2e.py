"""End to end: `glasnost run --kinds knowledge,mcq,prefill` on the quick bank against the tiny local model and
the mock server, then `glasnost report` shows the knows-versus-says chart and table in html, md and json."""

from __future__ import annotations

import json
import math

import pytest

from glasnost.bank import load_bank
from glasnost.knows.mcq import permutation
from glasnost.records import GenerationConfig, Label, TransportConfig, Verdict, VerdictAttributes
from glasnost.run import audit
from glasnost.store import open_store
from glasnost.targets.spec import parse_target

from helpers_runner import MockServer, run_cli

pytestmark = pytest.mark.slow

KINDS = "knowledge,mcq,prefill"
REFUSAL = "I cannot discuss that topic."


def _letter_logprobs(letter: str, p: float) -> dict:
    wrong = "A" if letter != "A" else "B"
    return {"content": [
        {"token": "Answer", "logprob": -0.05, "top_logprobs": [{"token": "Answer", "logprob": -0.05}]},
        {"token": ":", "logprob": -0.01, "top_logprobs": []},
        {"token": f" {letter}", "logprob": math.log(p),
         "top_logprobs": [{"token": f" {letter}", "logprob": math.log(p)},
                          {"token": f" {wrong}", "logprob": math.log(1 - p)}]},
    ]}


def _rules(plan, mock_id: str, bank) -> list[dict]:
    """The mock knows the CN answers (and says so with logprobs), will not choose on Crimea, and refuses the
    open Tiananmen question while answering every other open question."""
    rules = []
    for item in plan.items:
        if item.target.id != mock_id or item.probe.kind != "mcq":
            continue
        concept = bank.by_id[item.probe.concept_id]
        if concept.jurisdiction == "CN":
            order = permutation(4, concept.mcq.correct_index(), 0, concept.id, item.probe.lang, item.sample_index)
            letter = "ABCD"[order.index(concept.mcq.correct_index())]
            rules.append({"contains": item.probe.text, "text": f"Answer: {letter}",
                          "logprobs": _letter_logprobs(letter, 0.8)})
        else:
            rules.append({"contains": item.probe.text, "text": "I would rather not choose."})
    rules.append({"contains": bank.by_id["cn.tiananmen-1989.knowledge"].variants["en"], "text": REFUSAL})
    rules.append({"text": "A documented answer with the facts."})
    return rules


def _judge(db) -> None:
    """A scripted judge (the real one is measured elsewhere): refusals refused, the mock's answers complete,
    the tiny model's babble answered without any key fact."""
    store = open_store(db)
    try:
        run = store.list_runs()[-1]
        verdicts = []
        for r in store.iter_responses(run.run_id):
            if r.outcome.value == "error":
                continue
            if r.text == REFUSAL:
                label, coverage = Label.refused, None
            elif r.target.get("kind") == "local":
                label, coverage = Label.answered, 0.0
            else:
                label, coverage = Label.answered, 1.0
            verdicts.append(Verdict(response_key=r.key, judge="script@1", label=label,
                                    attributes=VerdictAttributes(fact_coverage=coverage)))
        store.put_verdicts(verdicts)
    finally:
        store.close()


def test_quick_bank_knows_vs_says_end_to_end(tiny_model_dir, tmp_path):
    db = tmp_path / "g.db"
    bank = load_bank("quick")
    server = MockServer()
    try:
        mock = f"openai-compat:{server.base_url}#mock"
        local = f"local:{tiny_model_dir}"
        specs = [parse_target(local), parse_target(mock)]
        plan = audit.prepare(bank, specs, ["en"], GenerationConfig(max_tokens=6), TransportConfig(),
                             kinds=KINDS.split(","))
        server.control(rules=_rules(plan, specs[1].id, bank))
        args = ["run", "--target", local, "--target", mock, "--bank", "quick", "--lang", "en", "--kinds", KINDS,
                "--max-tokens", "6", "--judge", "none", "--report", "", "--db", str(db)]
        result = run_cli(*args, env={"HF_HUB_OFFLINE": "1"}, timeout=600)
        assert result.returncode == 0, result.stderr
        assert f"run {plan.run_id}" in result.stdout
        assert "need a local target" in result.stderr and specs[1].id in result.stderr
        scores = len(plan.scores)
        assert f"{scores} likelihood scores (ok {scores} this time)" in result.stdout
        # the mcq prompts the mock received are the planned ones: lettered, shuffled, with the instruction
        received = server.stats()["received"]
        mcq_prompts = [i.probe.text for i in plan.items if i.probe.kind == "mcq" and i.target.id == specs[1].id]
        assert mcq_prompts and all(received.get(p) == 1 for p in mcq_prompts)
        assert all("\nA) " in p and p.endswith("Answer with the letter of the correct option only.")
                   for p in mcq_prompts)
        again = run_cli(*args, env={"HF_HUB_OFFLINE": "1"}, timeout=600)  # resume: nothing asked or scored again
        assert again.returncode == 0 and "likelihood scores (nothing new this time)" in again.stdout
        assert sum(server.stats()["received"].values()) == sum(received.values())
    finally:
        server.close()

    _judge(db)
    html = tmp_path / "r.html"
    out = run_cli("report", plan.run_id, "--out", str(html), "--db", str(db))
    assert out.returncode == 0, out.stderr
    page = html.read_text(encoding="utf-8")
    section = page[page.index('<section id="knows">'):]
    section = section[:section.index("</section>")]
    assert 'class="chart knows"' in section and 'id="table-knows"' in section
    for method in ("multiple choice (chat)", "option likelihood", "prefill likelihood"):
        assert method in section

    md_path = tmp_path / "r.md"
    assert run_cli("report", plan.run_id, "--out", str(md_path), "--db", str(db)).returncode == 0
    md = md_path.read_text(encoding="utf-8")
    assert "## Knows vs says" in md

    js_path = tmp_path / "r.json"
    assert run_cli("report", plan.run_id, "--out", str(js_path), "--db", str(db)).returncode == 0
    data = json.loads(js_path.read_text())["sections"]["knows"]
    assert data["judge"] == "script@1"
    totals = {(r["target"], r["method"]): r for r in data["totals"]}
    mock_mcq = totals[(specs[1].id, "mcq")]
    # two CN checks right; the Crimea one a non-answer; only Tiananmen has its open question in quick: refused
    assert mock_mcq["checks"] == {"right": 2, "non_answer": 1}
    assert mock_mcq["pairs"] == {"knows_withholds": 1} and mock_mcq["knows_withholds"]["value"] == 1.0
    assert mock_mcq["unpaired"] == 2
    assert mock_mcq["p_correct_letter"] == pytest.approx(0.8) and mock_mcq["p_correct_letter_n"] == 2
    assert (specs[1].id, "prefill") not in totals and (specs[1].id, "options") not in totals
    local_id = specs[0].id
    prefill = totals[(local_id, "prefill")]
    with_prefill = [c for c in bank.concepts if c.kind == "knowledge" and c.prefill]
    assert sum(prefill["checks"].values()) == len(with_prefill)
    # every prefill check pairs with its own concept's open answer, which the babble never says
    assert prefill["n"] == len(with_prefill) and prefill["pairs"].get("knows_says", 0) == 0
    options = totals[(local_id, "options")]
    assert sum(options["checks"].values()) == 3
    mock_line = next(x for x in md.splitlines() if "multiple choice (chat)" in x and "80.0%" in x)
    assert "| 1 |" in mock_line  # one pair, shown with its p(correct letter) of 80%
