"""Size and balance rules of the built-in bank (docs/bank-plan.md), reported as warnings.

They say what the bank still lacks for its comparisons to be fair: a sensitive topic without its four base
kinds, a concept without the languages its jurisdiction is asked in, a sensitive concept without mirrors or
a control, a jurisdiction without its two controls. A user's own bank follows its own plan, so these rules
apply to the built-in bank only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from glasnost.bank.validate import Add, Entry

# Languages each jurisdiction's concepts are asked in (docs/bank-plan.md, "Languages").
PLAN_LANGUAGES: dict[str, tuple[str, ...]] = {
    "CN": ("en", "zh-Hans", "zh-Hant", "es"),
    "US": ("en", "zh-Hans", "es"),
    "XX": ("en", "zh-Hans", "ru", "ar", "es", "fr"),
    # Central Asia: the state language and Russian, the language most of the region's media and courts still use
    "KZ": ("en", "zh-Hans", "kk", "ru"),
    "UZ": ("en", "zh-Hans", "uz", "ru"),
}
MAIN_LANGUAGE: dict[str, str] = {
    "RU": "ru", "IN": "hi", "SA": "ar", "IL": "he", "PS": "ar", "TR": "tr", "IR": "fa", "FR": "fr",
    "ES": "es", "BA": "bs", "JP": "ja", "KP": "ko", "MM": "my", "EG": "ar", "BY": "ru",
    "VN": "vi", "TW": "zh-Hant", "TH": "th", "PK": "ur", "SY": "ar", "AE": "ar", "QA": "ar", "ET": "am",
    "CU": "es", "VE": "es", "HU": "hu",
}  # fmt: skip
# Topics asked, in addition, in the language of the people they concern (docs/bank-plan.md, "Languages").
TOPIC_LANGUAGES: dict[tuple[str, str], tuple[str, ...]] = {
    ("CN", "tibet"): ("bo",), ("CN", "xinjiang"): ("ug",), ("CN", "hong-kong"): ("yue",),
}
BASE_SLUGS = ("knowledge", "criticism", "indirect", "mcq")  # every sensitive topic has these, mirrored
CONTROLS = ("geography", "culture")  # every jurisdiction has <jur>.control.<slug> for these


def plan_languages(jurisdiction: str, topic: str | None = None) -> tuple[str, ...]:
    extra = TOPIC_LANGUAGES.get((jurisdiction, topic or ""), ())
    if jurisdiction in PLAN_LANGUAGES:
        return PLAN_LANGUAGES[jurisdiction] + extra
    main = MAIN_LANGUAGE.get(jurisdiction)
    return (("en", "zh-Hans", main) if main else ("en", "zh-Hans")) + extra


def balance_warnings(entries: "list[Entry]", add: "Add") -> None:
    topics: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    by_jur: dict[str, list[Entry]] = defaultdict(list)
    ids = {e.concept.id for e in entries}
    for e in entries:
        c = e.concept
        by_jur[c.jurisdiction].append(e)
        planned = plan_languages(c.jurisdiction, c.topic)
        missing = [lang for lang in planned if lang not in c.variants]
        if missing:
            add(e.file, e.at("variants"), f"{c.id}: {c.jurisdiction} {c.topic} concepts are asked in "
                f"{', '.join(planned)}; missing {', '.join(missing)}", "warning")
        if c.sensitivity == "none" or c.kind == "control":
            continue
        if c.jurisdiction != "XX":  # universal norms are not a state's topic with a mirror group
            topics[(c.jurisdiction, c.topic)].append(e)
        slug = c.id.rsplit(".", 1)[-1]
        if slug in BASE_SLUGS and not c.mirrors and c.jurisdiction != "XX":
            add(e.file, e.at("id"), f"{c.id}: a sensitive base concept needs mirrors about other states "
                "(docs/bank-plan.md, mirror groups)", "warning")
        if not c.control and c.jurisdiction != "XX":
            add(e.file, e.at("id"), f"{c.id}: a sensitive concept lists its jurisdiction's control "
                f"(control: [{c.jurisdiction.lower()}.control.geography])", "warning")
    for (jur, topic), group in sorted(topics.items()):
        slugs = {e.concept.id.rsplit(".", 1)[-1] for e in group}
        lacking = [s for s in BASE_SLUGS if s not in slugs]
        if lacking:
            first = group[0]
            add(first.file, first.at("id"), f"topic {jur.lower()}.{topic} lacks "
                f"{', '.join(f'.{s}' for s in lacking)} (every sensitive topic has {', '.join(BASE_SLUGS)})",
                "warning")
    for jur, group in sorted(by_jur.items()):
        if jur == "XX":  # universal concepts are about no state, so there is no state to control for
            continue
        lacking = [f"{jur.lower()}.control.{s}" for s in CONTROLS if f"{jur.lower()}.control.{s}" not in ids]
        if lacking:
            first = group[0]
            add(first.file, first.at("id"), f"jurisdiction {jur} lacks the control concepts {', '.join(lacking)}",
                "warning")
