"""Language tags (BCP-47, the subset the bank uses) and jurisdiction codes (ISO 3166-1 alpha-2 or XX).

The bank only needs ``language[-Script][-REGION]``; a full BCP-47 parser (extlang, variants, extensions,
private use) would accept tags that no probe text is written in, so we check that small grammar, in its
canonical case (the bank's language keys are compared literally: ``zh-hans`` would be a second language).
"""

from __future__ import annotations

import re

# ISO 639-1 two-letter codes (all of them), plus the ISO 639-3 codes a bank is likely to need
# (Chinese varieties, Filipino, Sorani Kurdish, Hawaiian, Cantonese, Min Nan, Hakka, Wu).
LANGUAGES = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
    sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu
    yue cmn nan hak wuu fil ckb haw kab ber prs arz apc ary""".split()
)

# ISO 15924 scripts that texts in a bank are written in.
SCRIPTS = frozenset(
    """Latn Cyrl Arab Hebr Grek Armn Geor Deva Beng Guru Gujr Orya Taml Telu Knda Mlym Sinh Thai Laoo Khmr Mymr
    Tibt Mong Ethi Hang Kore Jpan Hira Kana Hans Hant Thaa Syrc Tfng Cher Copt Brai""".split()
)

# ISO 3166-1 alpha-2, all 249 officially assigned codes.
COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW
    BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ
    FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ
    IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH
    MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL
    PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD
    TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW""".split()
)
UNIVERSAL = "XX"  # universal / neutral concepts (e.g. human-rights principles), not about one state

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")


def canonical_tag(tag: str) -> str | None:
    """``tag`` in canonical case if it has the shape language[-script][-region], else None."""
    m = _TAG.match(tag)
    if not m:
        return None
    lang, script, region = m.groups()
    parts = [lang.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def check_language_tag(tag: object) -> str | None:
    """None when ``tag`` is a well-formed, canonical, known tag; else the problem and how to fix it."""
    if not isinstance(tag, str) or not tag:
        return f"language tag {tag!r} is not a string; use a BCP-47 tag such as en, zh-Hans, pt-BR"
    canon = canonical_tag(tag)
    if canon is None:
        return (
            f"language tag {tag!r} is not of the form language[-Script][-REGION]; "
            "use a BCP-47 tag such as en, zh-Hans, zh-Hant-TW, pt-BR"
        )
    if canon != tag:
        return f"language tag {tag!r} is not in canonical case; write {canon!r}"
    lang, *rest = tag.split("-")
    if lang not in LANGUAGES:
        return f"language tag {tag!r}: unknown language {lang!r}; use an ISO 639 code such as en, zh, ru, ar"
    for sub in rest:
        if len(sub) == 4 and sub not in SCRIPTS:
            return f"language tag {tag!r}: unknown script {sub!r}; use an ISO 15924 code such as Hans, Latn, Cyrl"
        if len(sub) == 2 and sub not in COUNTRIES:
            return f"language tag {tag!r}: unknown region {sub!r}; use an ISO 3166-1 code such as TW, BR"
    return None


def check_jurisdiction(code: object) -> str | None:
    """None when ``code`` is an ISO 3166-1 alpha-2 code or XX; else the problem and how to fix it."""
    if code == UNIVERSAL or code in COUNTRIES:
        return None
    if isinstance(code, str) and (code.upper() == UNIVERSAL or code.upper() in COUNTRIES):
        return f"jurisdiction {code!r} must be upper case; write {code.upper()!r}"
    return f"jurisdiction {code!r} is not an ISO 3166-1 alpha-2 code (CN, US, RU, ...) or XX (universal)"
