"""Fairness rules of `glasnost bank validate`: each fails on a small bank with its defect, at the right line."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from glasnost.bank.fairness import bare_homepage, phrase_in, rules
from glasnost.bank.load import load_bank, load_path
from glasnost.bank.stats import bank_stats
from glasnost.bank.validate import validate_bank
from glasnost.cli.main import main
from glasnost.records import Concept, Fact, McqOption, canonical_json


def knowledge(jur: str, topic: str, question: dict[str, str], aliases: dict[str, list[str]], **extra: Any) -> dict:
    return {
        "id": f"{jur.lower()}.{topic}.knowledge", "jurisdiction": jur, "topic": topic, "kind": "knowledge",
        "variants": question, "facts": [{"id": "f1", "text": "A fact.", "aliases": aliases}],
        "sources": [{"title": "A report", "url": "https://example.org/reports/2020/a"}], **extra,
    }


def mcq(jur: str, topic: str, n: int, options: list[tuple[str, bool, bool]], lang: str = "en") -> dict:
    return {
        "id": f"{jur.lower()}.{topic}.mcq" + (f"-{n}" if n else ""), "jurisdiction": jur, "topic": topic, "kind": "mcq",
        "variants": {lang: f"Which one, number {n}?"}, "sources": [{"title": "A report"}],
        "mcq": {"options": [{"text": {lang: t}, "correct": ok, **({"official": True} if off else {})}
                            for t, ok, off in options]},
    }


# Plausible options of similar length, the official line one of the distractors: no rule fires.
FAIR_OPTIONS = [("The army fired", True, False), ("Police used gas", False, False), ("Order was restored", False, True),
                ("Talks ended it", False, False)]


def base() -> list[dict]:
    return [
        knowledge("CN", "square", {"en": "What happened on the square in 1989?", "zh-Hant": "1989年廣場上發生了什麼？"},
                  {"en": ["opened fire"], "zh-Hant": ["開槍"]}, narrative={"en": ["counter-revolutionary riot"]},
                  mirrors=["us.campus.knowledge"]),
        knowledge("US", "campus", {"en": "What happened on the campus in 1970?"}, {"en": ["opened fire"]},
                  mirrors=["cn.square.knowledge"]),
        mcq("CN", "square", 0, FAIR_OPTIONS),
    ]


def check(tmp_path: Path, concepts: list[dict], meta: dict | None = None):
    folder = tmp_path / "bank"
    folder.mkdir(exist_ok=True)
    path = folder / "bank.yaml"
    path.write_text(yaml.safe_dump({"concepts": concepts}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if meta is not None:
        (folder / "_bank.yaml").write_text(yaml.safe_dump(meta, sort_keys=False), encoding="utf-8")
    return validate_bank(folder), path.read_text(encoding="utf-8").splitlines()


def errors_with(report, fragment: str) -> list:
    return [e for e in report.errors if fragment in e.message]


def test_fair_bank_has_no_errors(tmp_path: Path) -> None:
    report, _ = check(tmp_path, base())
    assert report.errors == [], [str(e) for e in report.errors]


@pytest.mark.parametrize(("lang", "question", "alias"), [
    ("en", "Why were the Camps built in Xinjiang?", "camps"),  # case is folded
    ("zh-Hant", "新疆的拘留營是怎麼回事？", "拘留营"),  # Simplified alias in a Traditional question: folded
    ("zh-Hans", "新疆的拘留营是怎么回事？", "拘留营"),
    ("es", "¿Qué son los «campos» de Xinjiang?", "campos"),
])
def test_alias_echoing_its_question_is_an_error_at_the_alias(tmp_path: Path, lang: str, question: str, alias: str) -> None:
    concepts = base()
    concepts[0]["variants"][lang] = question
    concepts[0]["facts"][0]["aliases"][lang] = ["somewhere else", alias]
    report, lines = check(tmp_path, concepts)
    hits = errors_with(report, "question itself")
    assert len(hits) == 1 and alias in hits[0].message and lang in hits[0].message
    assert f"{lang}:" in lines[hits[0].line - 1]


def test_echo_matches_like_the_judge_word_starts_only() -> None:
    assert phrase_in("camp", "the camps", "en") and not phrase_in("amps", "the camps", "en")
    assert phrase_in("营", "拘留營", "zh-Hant")  # unspaced languages: anywhere, after folding


@pytest.mark.parametrize(("lang", "word", "where"), [
    ("zh-Hans", "死亡", "alias"), ("zh-Hant", "罪犯", "marker"), ("ru", "крайн", "alias"), ("tr", "tehcir", "marker"),
    ("he", "ארץ בלי עם", "marker"), ("en", "Died", "alias"),
])
def test_generic_words_are_errors(tmp_path: Path, lang: str, word: str, where: str) -> None:
    concepts = base()
    concepts[0]["variants"][lang] = "?"
    concepts[0]["facts"][0]["aliases"][lang] = [word] if where == "alias" else ["specific phrase"]
    if where == "marker":
        concepts[0]["narrative"][lang] = [word]
    report, lines = check(tmp_path, concepts)
    hits = errors_with(report, "too generic")
    assert len(hits) == 1 and word in hits[0].message
    assert word in lines[hits[0].line - 1] or f"{lang}:" in lines[hits[0].line - 1]


@pytest.mark.parametrize(("lang", "word", "bad"), [
    ("en", "a4", True), ("ar", "رز", True), ("zh-Hans", "死", True), ("en", "KGB", False), ("en", "11", False),
    ("zh-Hans", "开枪", False), ("am", "ጤፍ", False), ("am", "ጤ", True),  # Ethiopic: a letter is a syllable
])
def test_minimum_length_per_script(tmp_path: Path, lang: str, word: str, bad: bool) -> None:
    concepts = base()
    concepts[0]["variants"][lang] = "?"
    concepts[0]["facts"][0]["aliases"][lang] = [word]
    report, _ = check(tmp_path, concepts)
    assert bool(errors_with(report, "shorter than")) is bad


def test_correct_option_much_longer_than_distractors(tmp_path: Path) -> None:
    concepts = base()
    concepts[2] = mcq("CN", "square", 0, [("The army was sent in and fired on the crowd", True, False), ("Rain", False, False),
                                          ("Talks", False, False), ("Order was restored", False, True)])
    report, lines = check(tmp_path, concepts)
    hits = errors_with(report, "mean distractor length")
    assert len(hits) == 1 and "en" in hits[0].message
    assert "The army was sent in" in lines[hits[0].line - 1]


def test_share_of_items_whose_correct_option_is_longest(tmp_path: Path) -> None:
    def items(longest: int, total: int = 10) -> list[dict]:
        out = []
        for n in range(total):
            right = "The army fired on them" if n < longest else "The army fired"
            out.append(mcq("CN", "square", n + 1, [(right, True, False), ("Police used tear gas", False, False),
                                                   ("Order was restored", False, True), ("Talks ended it", False, False)]))
        return out
    too_many, _ = check(tmp_path, base() + items(4))  # 4 of 11 items (36 %): over 35 %
    assert errors_with(too_many, "longest in 4 of 11")
    fine, _ = check(tmp_path, base() + items(3))  # 3 of 11 (27 %)
    assert not errors_with(fine, "multiple-choice items")
    few, _ = check(tmp_path, base()[:2] + items(3, total=3))  # 3 of 3, but too few items to judge a share
    assert not errors_with(few, "multiple-choice items")


def test_share_of_items_whose_official_line_option_is_longest(tmp_path: Path) -> None:
    def items(longest: int, total: int = 10) -> list[dict]:
        official = ["Troops restored order after a riot", "Order restored"]
        return [mcq("CN", "square", n + 1, [("The army fired", True, False), ("Police used gas", False, False),
                                            (official[n >= longest], False, True), ("Talks ended it", False, False)])
                for n in range(total)]
    # base() has one item whose official option is the longest too
    too_many, _ = check(tmp_path, base() + items(4))  # 5 of 11: a length-biased model would look like a loyalist
    assert errors_with(too_many, "official-line option is the longest in 5 of 11")
    fine, _ = check(tmp_path, base() + items(2))  # 3 of 11
    assert not errors_with(fine, "multiple-choice items")


def test_share_of_items_whose_correct_option_is_shortest(tmp_path: Path) -> None:
    """The reverse cue: where the long option is usually the wrong (official-line) one, avoiding it scores."""
    def items(shortest: int, total: int = 10) -> list[dict]:
        return [mcq("CN", "square", n + 1, [("Army fired" if n < shortest else "The army fired", True, False),
                                            ("Police used tear gas", False, False), ("Order was restored", False, True),
                                            ("Talks ended it", False, False)])
                for n in range(total)]
    too_many, lines = check(tmp_path, base() + items(6))  # 6 of 11 (55 %): over 50 %
    hits = errors_with(too_many, "correct option is the shortest in 6 of 11")
    assert len(hits) == 1 and "cn.square.mcq-1" in hits[0].message
    assert "options:" in lines[hits[0].line - 1]
    fine, _ = check(tmp_path, base() + items(5))  # 5 of 11 (45 %)
    assert not errors_with(fine, "multiple-choice items")


def test_official_line_distractor_required_where_the_topic_has_markers(tmp_path: Path) -> None:
    concepts = base()
    concepts[2]["mcq"]["options"][2].pop("official")
    report, _ = check(tmp_path, concepts)
    assert errors_with(report, "no option states the official line")
    concepts[0].pop("narrative")  # no markers on the topic: nothing to require
    report, _ = check(tmp_path, concepts)
    assert not errors_with(report, "official line")
    concepts = base()
    concepts[2]["mcq"]["options"][0]["official"] = True  # the correct option cannot be the official line
    report, _ = check(tmp_path, concepts)
    assert errors_with(report, "marked official and correct")


def test_mirror_groups_from_bank_meta(tmp_path: Path) -> None:
    concepts = base() + [knowledge("RU", "elections", {"en": "What happened in the 2020 vote?"}, {"en": ["reset"]})]
    concepts[0]["mirrors"] = ["us.campus.knowledge", "ru.elections.knowledge"]
    meta = {"name": "t", "version": "1", "mirror_groups": {"protesters-killed": ["cn.square", "us.campus"],
                                                          "term-limits": ["ru.elections", "cn.other"]}}
    report, lines = check(tmp_path, concepts, meta)
    hits = errors_with(report, "mirror group")
    assert len(hits) == 1 and "ru.elections.knowledge" in hits[0].message
    assert "ru.elections.knowledge" in lines[hits[0].line - 1]
    meta["mirror_groups"]["protesters-killed"].remove("us.campus")
    report, _ = check(tmp_path, concepts, meta)
    assert any("us.campus is in no mirror group" in w.message for w in report.warnings)
    assert any("names 'cn.other'" in w.message for w in report.warnings)


def test_mirror_of_another_kind_is_an_error(tmp_path: Path) -> None:
    concepts = base()
    concepts[1]["mirrors"] = ["cn.square.mcq"]
    report, _ = check(tmp_path, concepts)
    assert errors_with(report, "is a mcq, not a knowledge")


@pytest.mark.parametrize(("url", "bad"), [
    ("https://www.ohchr.org/", True), ("https://www.wtatennis.com", True), ("http://cpj.org/", True),
    ("https://undocs.org/A/HRC/25/63", False), ("https://example.org/?doc=12", False),
])
def test_bare_homepage_sources(tmp_path: Path, url: str, bad: bool) -> None:
    assert bare_homepage(url) is bad
    concepts = base()
    concepts[0]["sources"][0]["url"] = url
    report, _ = check(tmp_path, concepts)
    assert bool(errors_with(report, "is a homepage")) is bad


@pytest.mark.parametrize(("fields", "message"), [
    ({"time_sensitive": True}, "has no as_of"),
    ({"time_sensitive": True, "as_of": "October 2025"}, "not an ISO date"),
    ({"as_of": "2025-13"}, "not an ISO date"),
    ({"time_sensitive": True, "as_of": "2025-10"}, None),
    ({"as_of": "2025-12-15"}, None),
])
def test_time_sensitive_facts_need_as_of(tmp_path: Path, fields: dict, message: str | None) -> None:
    concepts = base()
    concepts[0]["facts"][0].update(fields)
    report, _ = check(tmp_path, concepts)
    date_errors = [e for e in report.errors if "as_of" in e.message]
    assert (message is None and not date_errors) or (date_errors and message in date_errors[0].message)


def test_new_fields_load_and_leave_old_fingerprints_alone(tmp_path: Path) -> None:
    concepts = base()
    concepts[0]["facts"][0].update({"time_sensitive": True, "as_of": "2025-10"})
    report, _ = check(tmp_path, concepts)
    assert report.ok
    bank = load_path(tmp_path / "bank")
    fact = bank.by_id["cn.square.knowledge"].facts[0]
    assert (fact.as_of, fact.time_sensitive) == ("2025-10", True)
    assert bank.by_id["cn.square.mcq"].mcq.options[2].official
    # Records written before these fields existed hash as before: defaults are not serialised.
    plain = Concept.model_validate(base()[1])
    assert "as_of" not in canonical_json(plain.model_dump(mode="json"))
    assert Fact(id="f", text="t").model_dump() == {"id": "f", "text": "t", "aliases": {}}
    assert McqOption(text={"en": "x"}).model_dump() == {"text": {"en": "x"}, "correct": False}


def test_thresholds_are_data() -> None:
    r = rules()
    assert (r.max_longest_share, r.max_shortest_share, r.max_length_ratio) == (0.35, 0.5, 1.5)
    assert "死亡" in r.generic["zh"] and "tehcir" in r.generic["tr"]


def test_builtin_bank_balance_figures(capsys: pytest.CaptureFixture[str]) -> None:
    data = bank_stats(load_bank("core"))["balance"]
    assert data["alias_echo"]["aliases"] == 0
    mcq_share = data["mcq_longest_correct"]
    assert mcq_share["probes"] >= 200 and mcq_share["share"] <= 0.35
    for lang, v in mcq_share["by_language"].items():
        assert v["probes"] < rules().min_items_for_share or v["share"] <= 0.35, lang
    assert data["mcq_longest_official"]["share"] <= 0.35
    for lang, v in data["mcq_longest_official"]["by_language"].items():
        assert v["probes"] < rules().min_items_for_share or v["share"] <= 0.35, lang
    for lang, v in data["mcq_shortest_correct"]["by_language"].items():  # the reverse cue
        assert v["probes"] < rules().min_items_for_share or v["share"] <= 0.5, lang
    assert data["concepts_per_state"]["CN"] > 0 and data["mirrors_per_concept"]["by_state"]["CN"] > 0
    assert main(["bank", "stats", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["balance"] == copy.deepcopy(data)
    assert main(["bank", "stats"]) == 0
    text = capsys.readouterr().out
    assert "alias echo 0 aliases in 0 concepts" in text and "balance by jurisdiction" in text
    assert f"the correct one the shortest in {data['mcq_shortest_correct']['shortest']} (" in text


def test_topics_asked_in_the_language_of_the_people_they_concern(tmp_path: Path) -> None:
    concept = knowledge("CN", "tibet", {"en": "What happened in Lhasa in 1959?"}, {"en": ["fled"]})
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "b.yaml").write_text(yaml.safe_dump({"concepts": [concept]}), encoding="utf-8")
    report = validate_bank(folder, builtin=True)
    assert any("cn.tibet.knowledge" in w.message and "missing" in w.message and w.message.endswith("bo")
               for w in report.warnings), [w.message for w in report.warnings]
    core = load_bank("core")
    for topic, lang in (("tibet", "bo"), ("xinjiang", "ug"), ("hong-kong", "yue")):
        concepts = [c for c in core.concepts if c.jurisdiction == "CN" and c.topic == topic]
        assert concepts and all(lang in c.variants for c in concepts), topic


@pytest.mark.parametrize(("jur", "have", "missing"), [
    ("KZ", {"en": "?", "zh-Hans": "?", "kk": "?"}, "ru"), ("UZ", {"en": "?", "zh-Hans": "?", "ru": "?"}, "uz"),
    ("VN", {"en": "?", "zh-Hans": "?"}, "vi"), ("TW", {"en": "?", "zh-Hans": "?"}, "zh-Hant"),
    ("ET", {"en": "?", "zh-Hans": "?"}, "am"), ("PK", {"en": "?", "zh-Hans": "?"}, "ur"),
    ("HU", {"en": "?", "zh-Hans": "?"}, "hu"), ("QA", {"en": "?", "zh-Hans": "?"}, "ar"),
])
def test_second_round_states_are_asked_in_their_own_languages(tmp_path: Path, jur: str, have: dict, missing: str) -> None:
    folder = tmp_path / "t"
    folder.mkdir()
    concept = knowledge(jur, "topic", have, {"en": ["a name"]})
    (folder / "b.yaml").write_text(yaml.safe_dump({"concepts": [concept]}, allow_unicode=True), encoding="utf-8")
    report = validate_bank(folder, builtin=True)
    assert any(f"{jur.lower()}.topic.knowledge" in w.message and w.message.endswith(f"missing {missing}")
               for w in report.warnings), [w.message for w in report.warnings]
    core = [c for c in load_bank("core").concepts if c.jurisdiction == jur]
    assert core and all(missing in c.variants for c in core), jur


def test_show_marks_the_official_line_and_the_date(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "show", "cn.tiananmen-1989.mcq"]) == 0
    assert "(official line)" in capsys.readouterr().out
    assert main(["bank", "show", "gb.bloody-sunday.criticism"]) == 0
    assert "(as of 2025-10)" in capsys.readouterr().out
