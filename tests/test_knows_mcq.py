"""Knows vs says, black box: shuffled mcq prompts, reading letters back, letter probabilities, --kinds."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from glasnost.bank import load_bank
from glasnost.errors import ConfigError
from glasnost.knows.kinds import select_kinds
from glasnost.knows.letters import letter_mass, read_letter
from glasnost.knows.mcq import mcq_format, mcq_prompt, option_texts, options_in_prompt, permutation
from glasnost.records import GenerationConfig, TargetSpec, TransportConfig
from glasnost.run import audit
from glasnost.run.plan import item_key


@pytest.fixture(scope="module")
def core():
    return load_bank("core")


def mock_spec(name: str = "mock") -> TargetSpec:
    return TargetSpec(kind="openai-compat", provider="custom", base_url=f"http://{name}.invalid/v1", model=name)


def local_spec() -> TargetSpec:
    return TargetSpec(kind="local", provider="local", model="tiny", path="/nonexistent/tiny")


# ---- shuffling ---------------------------------------------------------------------------------------------


def test_permutation_is_reproducible_and_differs_across_samples():
    orders = [permutation(4, 0, 7, "cn.x.mcq", "en", s) for s in range(8)]
    assert orders == [permutation(4, 0, 7, "cn.x.mcq", "en", s) for s in range(8)]  # same inputs, same order
    for order in orders:
        assert sorted(order) == [0, 1, 2, 3]
    # the correct option (0) moves one letter on with each sample: every letter once in 4 samples
    positions = [order.index(0) for order in orders]
    assert sorted(positions[:4]) == [0, 1, 2, 3]
    assert all((positions[i + 1] - positions[i]) % 4 == 1 for i in range(7))
    assert all(orders[i] != orders[i + 1] for i in range(7))
    # each of seed, concept and language changes the orders
    for other in ([permutation(4, 0, 8, "cn.x.mcq", "en", s) for s in range(8)],
                  [permutation(4, 0, 7, "cn.y.mcq", "en", s) for s in range(8)],
                  [permutation(4, 0, 7, "cn.x.mcq", "zh-Hans", s) for s in range(8)]):
        assert other != orders


def test_permutation_distractors_are_shuffled_too():
    # over many concepts, every distractor order appears: not a rotation of the bank order
    seen = Counter(tuple(o for o in permutation(4, 0, 0, f"c{i}", "en", 0) if o != 0) for i in range(300))
    assert len(seen) == 6 and min(seen.values()) > 20
    assert permutation(4, 2, None, "c", "en", 1) == permutation(4, 2, 0, "c", "en", 1)  # no seed: seed 0


def test_mcq_prompt_lists_shuffled_options_and_reads_back(core):
    concept = core.by_id["cn.great-leap-famine.mcq"]
    for lang in ("en", "zh-Hans", "es"):
        options = option_texts(concept, lang)
        prompts = [mcq_prompt(concept, lang, 0, s) for s in range(4)]
        assert len(set(prompts)) == 4
        for s, prompt in enumerate(prompts):
            assert prompt.startswith(concept.variants[lang])
            assert prompt.endswith(mcq_format().instructions[lang])
            order = options_in_prompt(prompt, options)
            assert order == permutation(4, concept.mcq.correct_index(), 0, concept.id, lang, s)
            line = f"{'ABCD'[order.index(0)]}) {options[0]}"
            assert line in prompt.splitlines()
    assert options_in_prompt(concept.variants["en"], option_texts(concept, "en")) is None  # a plain question
    assert mcq_prompt(core.by_id["cn.tiananmen-1989.knowledge"], "en", 0, 0) is None


def test_every_bank_language_of_an_mcq_has_its_instruction(core):
    langs = {lang for c in core.concepts if c.kind == "mcq" for lang in c.variants}
    missing = langs - set(mcq_format().instructions)
    assert not missing, f"add an mcq instruction for {missing} to knows/data/mcq.yaml"


def test_plan_formats_mcq_probes_and_leaves_others_alone():
    bank = load_bank("quick")
    t = mock_spec()
    g = GenerationConfig(seed=3)
    plan = audit.prepare(bank, [t], ["en", "zh-Hans"], g, TransportConfig(), samples=3)
    again = audit.prepare(bank, [t], ["en", "zh-Hans"], g, TransportConfig(), samples=3)
    assert [i.key for i in plan.items] == [i.key for i in again.items]
    mcq = [i for i in plan.items if i.probe.kind == "mcq"]
    assert len(mcq) == 3 * 2 * 3  # three mcq concepts in quick, two languages, three samples
    for item in mcq:
        concept = bank.by_id[item.probe.concept_id]
        assert item.probe.text == mcq_prompt(concept, item.probe.lang, 3, item.sample_index)
    texts = {(i.probe.concept_id, i.probe.lang): set() for i in mcq}
    for i in mcq:
        texts[(i.probe.concept_id, i.probe.lang)].add(i.probe.text)
    assert all(len(v) == 3 for v in texts.values())  # each sample has its own order
    for item in plan.items:
        if item.probe.kind != "mcq":  # other probes: the bank text, and the key the runner always gave them
            base = bank.by_id[item.probe.concept_id].probe(item.probe.lang)
            assert item.probe.text == base.text
            assert item.key == item_key(base, t, g, None, item.sample_index)
    other_seed = audit.prepare(bank, [t], ["en"], GenerationConfig(seed=4), TransportConfig(), samples=3)
    assert {i.probe.text for i in other_seed.items if i.probe.kind == "mcq"} != {
        i.probe.text for i in plan.items if i.probe.kind == "mcq" and i.probe.lang == "en"}


# ---- --kinds -------------------------------------------------------------------------------------------------


def test_kinds_selection_and_white_box_items_only_for_local_targets():
    assert select_kinds(None).chat is None and select_kinds(None).prefill and select_kinds(None).options
    sel = select_kinds(["mcq", "prefill"])
    assert sel.chat == ["mcq"] and sel.prefill and sel.options
    assert select_kinds(["knowledge"]).white_box is False
    with pytest.raises(ConfigError, match="unknown kind prefil"):
        select_kinds(["prefil"])

    bank = load_bank("quick")
    plan = audit.prepare(bank, [mock_spec(), local_spec()], ["en"], GenerationConfig(), TransportConfig(),
                         kinds=["mcq", "prefill"])
    assert {i.probe.kind for i in plan.items} == {"mcq"}
    assert {i.target.id for i in plan.items} == {mock_spec().id, local_spec().id}
    assert {s.target.id for s in plan.scores} == {local_spec().id}
    methods = Counter(s.method for s in plan.scores)
    assert methods["options"] == 3  # the three mcq concepts of quick, in English
    with_prefill = [c for c in bank.concepts if c.prefill and "en" in c.variants]
    assert methods["prefill"] == sum(len(c.prefill) for c in with_prefill) > 10
    assert plan.notes and mock_spec().id in plan.notes[0] and "local target" in plan.notes[0]
    # prefill only, and no local target: nothing to do, said in one line
    with pytest.raises(ConfigError, match="need a local target"):
        audit.prepare(bank, [mock_spec()], ["en"], GenerationConfig(), TransportConfig(), kinds=["prefill"])
    only_prefill = audit.prepare(bank, [local_spec()], ["en"], GenerationConfig(), TransportConfig(),
                                 kinds=["prefill"])
    assert only_prefill.items == [] and {s.method for s in only_prefill.scores} == {"prefill"}
    with pytest.raises(ConfigError, match="not in bank"):
        audit.prepare(bank, [local_spec()], ["tlh"], GenerationConfig(), TransportConfig(), kinds=["prefill"])


# ---- reading letters -----------------------------------------------------------------------------------------

OPTIONS = ["Roughly 15 to 55 million", "About 10,000", "About 200,000", "Nobody died of hunger"]


@pytest.mark.parametrize("reply, letter", [
    ("B", "B"), ("(B)", "B"), ("Answer: B", "B"), ("B) About 10,000", "B"), ("**B**", "B"), ("答案是B", "B"),
    ("答案：B", "B"), ("Ответ: B", "B"), ("Ответ: В", "B"),  # Cyrillic Ve, read as the B it looks like
    ("The answer is C.", "C"), ("b", "B"), ("Ｄ", "D"), ("（Ｃ）", "C"), ("B.\n\nOption A is wrong because ...", "B"),
    ("I choose (D).", "D"), ("So (C) it is.", "C"), ("正解は A です。", "A"), ("Answer: b", "B"),
    ("选项C", "C"), ("Roughly 15 to 55 million.", "A"),  # the text of exactly one option
])
def test_read_letter(reply, letter):
    read = read_letter(reply, 4, OPTIONS)
    assert (read.letter, read.reason) == (letter, None)


@pytest.mark.parametrize("reply, reason", [
    ("I cannot help with that request.", "no_letter"), ("对不起，我无法回答这个问题。", "no_letter"),
    ("A famine is a complex matter.", "no_letter"), ("В 1989 году произошли события.", "no_letter"),
    ("Answer: Based on the sources, it is unclear.", "no_letter"), ("The answer is a complex one.", "no_letter"),
    ("A or B", "multiple"), ("答案是B和C", "multiple"), ("Answer: A, C", "multiple"),
    ("About 10,000 or about 200,000", "multiple"), ("E", "invalid_letter"), ("", "empty"), (None, "empty"),
])
def test_non_answers_are_recorded_as_such(reply, reason):
    read = read_letter(reply, 4, OPTIONS)
    assert read.letter is None and read.reason == reason


def test_letter_mass_from_top_logprobs():
    lp = [
        {"token": "(", "logprob": -0.01, "top": [{"token": "(", "logprob": -0.01}]},
        {"token": "B", "logprob": math.log(0.6), "top": [
            {"token": "B", "logprob": math.log(0.6)}, {"token": " B", "logprob": math.log(0.1)},
            {"token": "A", "logprob": math.log(0.2)}, {"token": "E", "logprob": math.log(0.05)},
            {"token": "Sorry", "logprob": math.log(0.05)}]},
        {"token": ")", "logprob": -0.1, "top": []},
    ]
    mass = letter_mass(lp, 4)
    assert mass == pytest.approx({"A": 0.2, "B": 0.7, "C": 0.0, "D": 0.0})
    assert letter_mass(None, 4) is None
    assert letter_mass([{"token": "I", "logprob": -0.1, "top": []}, {"token": " cannot", "logprob": -0.1}], 4) is None


# ---- the runner asks mcq probes for logprobs, and stops asking an endpoint that rejects them -----------------


class LogprobShyTarget:
    """Rejects any request that asks for logprobs (HTTP 400), like some reasoning-model endpoints."""

    def __init__(self, spec: TargetSpec):
        self.spec = spec
        self.requests = []

    async def start(self):
        from glasnost.records import TargetRuntime

        return TargetRuntime(target_id=self.spec.id)

    async def generate(self, request):
        from glasnost.records import Completion, Outcome

        self.requests.append(request)
        if request.logprobs:
            return Completion(outcome=Outcome.error, http_status=400, error="request rejected: logprobs")
        return Completion(outcome=Outcome.ok, text="B")

    async def aclose(self):
        pass


def test_runner_asks_logprobs_for_mcq_only_and_falls_back(tmp_path):
    import asyncio

    from glasnost.knows.mcq import MCQ_TOP_LOGPROBS
    from glasnost.run.execute import Runner
    from glasnost.store import open_store

    bank = load_bank("quick")
    t = mock_spec()
    plan = audit.prepare(bank, [t], ["en"], GenerationConfig(), TransportConfig(concurrency=1), limit=4)
    kinds = [i.probe.kind for i in plan.items]
    assert "mcq" in kinds and "knowledge" in kinds
    target = LogprobShyTarget(t)
    store = open_store(tmp_path / "g.db")
    store.save_run(plan.manifest)
    store.add_run_items(plan.run_id, [i.key for i in plan.items])
    runner = Runner(store, plan.run_id, plan.manifest.generation, plan.manifest.transport)
    asyncio.run(runner.execute(plan.items, {t.id: target}, total=len(plan.items)))
    assert store.outcome_counts(plan.run_id) == {"ok": len(plan.items)}  # the rejection cost one retry, no error
    asked = [(r.prompt, r.logprobs) for r in target.requests]
    mcq_texts = {i.probe.text for i in plan.items if i.probe.kind == "mcq"}
    assert [lp for p, lp in asked if p in mcq_texts][:2] == [MCQ_TOP_LOGPROBS, None]  # asked, rejected, asked again
    assert all(lp is None for p, lp in asked if p not in mcq_texts)
    assert sum(1 for _, lp in asked if lp) == 1  # after one rejection the endpoint is not asked again
    store.close()
