"""The fast letter reading (first-character classes, a remembered reading) gives exactly the plain one's results.

``knows/letters.py`` writes the cue alternations ``(?i:w1|w2|...)`` as one branch per class of first characters
and remembers recent readings (issue 17). Both are speed only: every reading and every match of the cue
patterns must be the plain ones', on real replies and on hostile text built to hit re's case folding.
"""

from __future__ import annotations

import random
import re

import pytest

import test_knows_mcq
from glasnost.knows import letters
from glasnost.knows.letters import read_letter, read_letter_plain
from glasnost.knows.mcq import mcq_format, mcq_prompt, option_texts


def _cases(test) -> list[str | None]:
    return [args[0] for mark in test.pytestmark if mark.name == "parametrize" for args in mark.args[1]]


KNOWN = _cases(test_knows_mcq.test_read_letter) + _cases(test_knows_mcq.test_non_answers_are_recorded_as_such)
OPTIONS = test_knows_mcq.OPTIONS


def _cues() -> list[str]:
    fmt = mcq_format()
    return [w for words in [*fmt.markers.values(), *fmt.option_words.values()] for w in words]


def _variants(word: str, rng: random.Random, classes: dict[str, str]) -> str:
    """The cue as a model might write it: another case, or a first character re folds to the same letter."""
    how = rng.randrange(6)
    if how == 0:
        return word.upper()
    if how == 1:
        return word.swapcase()
    if how == 2:
        return word.title()
    if how == 3 and word[0] in classes:
        return rng.choice(classes[word[0]]) + word[1:]
    if how == 4:
        return word[:-1] if len(word) > 1 else word  # a cue cut short
    return word


# Characters where case folding is irregular (Kelvin sign, long s, dotted/dotless i, final sigma, ...), NFKC
# forms, Cyrillic look-alikes, markup the reading strips, and letters outside the valid range.
ODD = ["K", "k", "ſ", "s", "S", "İ", "ı", "i", "I", "ς", "σ", "Σ", "Å", "å", "ǅ", "ǆ", "Ǆ", "ẞ", "ß", "Ｂ", "（", "）",
       "В", "А", "С", "Е", "Н", "ф", "**", "_", "`", "\n", " ", "  ", ":", "：", "-", "—", "is ", "是", "(", ")", "[",
       "]", "「", "」", "“", "”", "'", ".", "。", ",", "、", "/", "&", " and ", " or ", " или ", "和", "或",
       "A", "B", "C", "D", "E", "F", "H", "a", "b", "c", "d", "h", "z", "\u0301", "\u200b", "\x00"]


def _hostile(rng: random.Random, cues: list[str], classes: dict[str, str]) -> str:
    parts = []
    for _ in range(rng.randrange(1, 14)):
        r = rng.random()
        if r < 0.35:
            parts.append(_variants(rng.choice(cues), rng, classes))
        elif r < 0.8:
            parts.append(rng.choice(ODD))
        else:
            parts.append(rng.choice(OPTIONS) if rng.random() < 0.5 else rng.choice(["the", "x", "Option", "答案"]))
    return "".join(parts)


@pytest.fixture(scope="module")
def classes() -> dict[str, str]:
    cues = _cues()
    return letters._start_classes(sorted({w[0] for w in cues if w}))


def test_the_fast_cues_are_in_use_and_their_classes_are_what_re_folds(classes):
    plain, fast = dict(letters._patterns(fast=False)), dict(letters._patterns())
    for rule in ("marker", "option_word"):
        assert [p.pattern for p in fast[rule]] != [p.pattern for p in plain[rule]]  # the fast form is built
    for first, cls in classes.items():
        assert first in cls
        for c in cls:
            assert re.fullmatch(f"(?i:{re.escape(first)})", c)
    # the irregular folds re knows are in the classes: the Kelvin sign starts what 'k' starts, long s what 's' does
    if "k" in classes:
        assert "K" in classes["k"]
    assert letters._start_classes(["s"])["s"] == "".join(sorted("sSſ"))


def test_fast_cue_patterns_match_exactly_what_the_plain_ones_match(classes):
    rng = random.Random(17)
    cues = _cues()
    texts = [t for t in KNOWN if t] + [_hostile(rng, cues, classes) for _ in range(3000)]
    plain, fast = dict(letters._patterns(fast=False)), dict(letters._patterns())
    compared = 0
    for rule in ("marker", "option_word"):
        for p, f in zip(plain[rule], fast[rule]):
            for t in texts:
                want = [(m.span(), m.groups()) for m in p.finditer(t)]
                assert [(m.span(), m.groups()) for m in f.finditer(t)] == want, (rule, t)
                compared += bool(want)
    assert compared > 500  # the hostile texts do name cues before labels


def test_fast_reading_equals_the_plain_one_on_real_and_hostile_replies(classes):
    rng = random.Random(1989)
    cues = _cues()
    bank_options = []
    from glasnost.bank import load_bank

    bank = load_bank("quick")
    replies: list[str | None] = list(KNOWN)
    for concept in bank.concepts:
        if concept.kind != "mcq" or concept.mcq is None:
            continue
        for lang in concept.variants:
            opts = option_texts(concept, lang)
            if not opts:
                continue
            bank_options.append(opts)
            prompt = mcq_prompt(concept, lang, 0, rng.randrange(50))
            replies += [prompt, f"Mock answer: {prompt}", prompt + "\n\nAnswer: B", opts[1], f"答案是 {opts[2]}"]
    replies += [_hostile(rng, cues, classes) for _ in range(3000)]
    replies += ["x" * 9000 + " Answer: C", "Ответ: " * 2000 + "В"]  # longer than what is remembered
    seen = set()
    for reply in replies:
        for n in (2, 4, 5):
            opts = rng.choice([OPTIONS, *bank_options, None])
            want = read_letter_plain(reply, n, opts)
            assert read_letter(reply, n, opts) == want, (reply, n, opts)
            assert read_letter(reply, n, opts) == want  # the remembered reading too
            seen.add((want.letter, want.reason, want.rule))
    assert len(seen) > 15  # letters, non-answers and rules of every kind were compared


def test_a_remembered_reading_depends_on_every_argument():
    reply = "Answer: E"
    assert read_letter(reply, 4).reason == "invalid_letter"
    assert read_letter(reply, 5).letter == "E"  # not the 4-option reading remembered just before
    text = "About 10,000"
    assert read_letter(text, 4, OPTIONS).letter == "B"
    assert read_letter(text, 4, list(reversed(OPTIONS))).letter == "C"
    assert read_letter(text, 4, None).reason == "no_letter"


def test_the_mcq_format_reads_the_same_with_the_c_parser():
    """``mcq_format`` parses its data file with ``textsafe.yaml_load`` (libyaml's safe loader where there is
    one: start-up): the same values as the pure-Python safe loader."""
    from importlib import resources

    import yaml

    from glasnost.textsafe import yaml_load

    text = (resources.files("glasnost.knows") / "data" / "mcq.yaml").read_text(encoding="utf-8")
    assert yaml_load(text, "mcq.yaml") == yaml.safe_load(text)
