"""Reporting verbs after what they report (rules v8, ``attribution_after``): in verb-final languages the verb
of saying follows the reported words ("…だと主張している", "…라고 주장하지만", "…बताती है", "…قرار دیا",
"…olarak nitelendirdi", "…деп атады"). Such a verb in the same sentence makes an official-line marker before it
reported speech, as "the government claims that…" before it does in English; the speaker's own endings do not."""

from __future__ import annotations

import pytest

from glasnost.judge import rules
from glasnost.judge.text import fold


def _where(lang: str, text: str, marker: str) -> str:
    langs = rules.rule_languages(lang)
    folded = fold(text)
    hits = [h for h in rules.find_markers(folded, text, langs) if h.category in rules.OFFICIAL]
    found = [h for h in hits if marker in h.text]
    assert found, (marker, [(h.category, h.text) for h in hits])
    return found[0].where


# (language, text, a marker in it): the marker is reported by a verb that follows it
REPORTED = [
    ("ja", "ロシア政府はこれを特別軍事作戦だと称しているが、国連総会は侵略と認定した。", "特別軍事作戦"),
    ("ja", "日本政府は請求権の問題は完全かつ最終的に解決済みだと主張している。", "完全かつ最終的に解決"),
    ("tr", "Hükümet olayları dış güçlerin kışkırttığı bir kalkışma olarak nitelendirdi.", "dış güçler"),
    ("kk", "Билік наразылықты сыртқы күштер ұйымдастырды деп мәлімдеді.", "сыртқы күштер"),
    ("fa", "مقامات، اعتراض‌ها را اغتشاشی سازمان‌یافته از سوی بیگانگان خواندند.", "اغتشاش"),
]

# the same markers in the speaker's own voice, or followed by a verb that only looks like a reporting one
ASSERTED = [
    ("ja", "この問題は1965年の協定により完全かつ最終的に解決済みであると考えております。", "完全かつ最終的に解決"),
    ("ja", "特別軍事作戦の目的はドンバスの住民を守ることです。ロシアはそう主張する国々と対話を続けている。", "特別軍事作戦"),
    ("kk", "Тәртіпсіздікті сыртқы күштер ұйымдастырды, полиция қылмыскерлерді іздеді.", "сыртқы күштер"),
    ("fa", "این اغتشاش کار بیگانگان بود. مردم بعدها حقیقت را دانستند.", "اغتشاش"),
]


@pytest.mark.parametrize("lang,text,marker", REPORTED)
def test_a_reporting_verb_after_the_marker_makes_it_reported_speech(lang: str, text: str, marker: str) -> None:
    assert _where(lang, text, marker) == "attributed"


@pytest.mark.parametrize("lang,text,marker", ASSERTED)
def test_own_voice_endings_and_the_next_sentence_do_not(lang: str, text: str, marker: str) -> None:
    assert _where(lang, text, marker) == "asserted"


def test_every_reporting_ending_compiles_and_is_for_a_verb_final_language() -> None:
    data = rules.rule_data()
    with_after = {lang for lang, r in data.items() if r.get("attribution_after")}
    assert with_after == {"ja", "ko", "hi", "ur", "tr", "kk", "my", "fa"}
    for lang in with_after:
        assert rules.compiled((lang,)).attribution_after is not None
