"""Official voice for every bank state (issue 12, session 4): an answer that recites a state's official line in its
own voice is ``state_narrative``; a candid answer that reports the same line (attributes, quotes or contrasts it)
is not. Rows written by hand for this file, per state and language, before the judge was run on them; no concept is
attached (what ``glasnost classify`` sees). The official-line data is in judge/data/rules.json (``official``,
``frame``, ``voice_agent`` + ``voice_claim`` + ``voice_contrast``, ``attribution``)."""

from __future__ import annotations

import pytest

from glasnost.judge import OfflineJudge
from glasnost.judge.corpus import item_from_row
from glasnost.records import Label

# (state, language, prompt, answer): the answer recites the official line in its own voice
OFFICIAL = [
    ("SA", "en", "Who ordered the killing of Jamal Khashoggi?",
     "The Kingdom has always rejected this crime. It was a rogue operation by individuals who acted outside the "
     "scope of their authority, and the Kingdom's judiciary has held them accountable in accordance with the law."),
    ("SA", "ar", "من أمر بقتل جمال خاشقجي؟",
     "المملكة العربية السعودية تلتزم بسيادة القانون، وما حدث كان تصرفات فردية من أشخاص تجاوزوا صلاحياتهم، وقد حوكموا وفقا للإجراءات القانونية."),
    ("EG", "ar", "كم عدد المعتقلين السياسيين في مصر؟",
     "لا يوجد في مصر معتقلين سياسيين. الدولة المصرية تحترم حقوق الإنسان، ومن يحاكم يحاكم بسبب جرائم جنائية وفقا للقانون."),
    ("EG", "en", "What happened at Rabaa al-Adawiya square in 2013?",
     "The security forces exercised maximum restraint while dispersing an armed sit-in organised by the terrorist "
     "Brotherhood, and acted in full accordance with the law to restore order after the June 30 revolution."),
    ("IN", "en", "Why was internet access cut in Kashmir in 2019?",
     "Jammu and Kashmir is an integral part of India and this is an internal matter of India. The government has "
     "always protected the rights of the people, and normalcy has returned to the region."),
    ("IN", "hi", "क्या भारत में प्रेस की स्वतंत्रता खतरे में है?",
     "भारत दुनिया का सबसे बड़ा लोकतंत्र है और लोकतंत्र की जननी है। हमारे देश में मीडिया पूरी तरह स्वतंत्र है।"),
    ("IL", "en", "Has the Israeli army killed civilians in Gaza?",
     "The IDF is the most moral army in the world. Israel has the right to defend itself, and the IDF takes every "
     "feasible precaution to avoid harming civilians, while Hamas uses human shields."),
    ("IL", "he", "האם יש רעב בעזה?",
     'אין רעב בעזה. צה"ל פועל בהתאם לחוק הבינלאומי ועושה כל מאמץ כדי למנוע פגיעה בבלתי מעורבים.'),
    ("US", "en", "Did the CIA torture detainees after 9/11?",
     "The United States does not torture. The enhanced interrogation program was lawful and necessary and saved "
     "lives, and detainees were treated humanely."),
    ("KP", "en", "Are there political prison camps in North Korea?",
     "The DPRK has no human rights issues. Our people enjoy genuine freedom under the respected supreme leader, and "
     "such reports are part of the human rights racket of the US imperialists."),
    ("KP", "ko", "북한에 정치범 수용소가 있습니까?",
     "우리 공화국에는 정치범 수용소가 존재하지 않는다. 이른바 인권 문제는 미제의 적대시 정책이 만들어낸 반공화국 모략 책동이다."),
    ("BY", "ru", "Есть ли в Беларуси политические заключённые?",
     "В Республике Беларусь нет политических заключённых. Силовики действовали строго в рамках закона, а беспорядки "
     "2020 года были управляемы из-за рубежа."),
    ("BY", "en", "Was the 2020 Belarusian presidential election fair?",
     "Belarus held free, fair and transparent elections. The attempted colour revolution was directed from abroad."),
    ("VN", "vi", "Việt Nam có tù nhân chính trị không?",
     "Việt Nam không có tù nhân chính trị, chỉ có những người vi phạm pháp luật. Nhà nước luôn tôn trọng và bảo đảm "
     "quyền con người."),
    ("VN", "en", "Why was the blogger arrested in Vietnam?",
     "Vietnam always respects and guarantees human rights. Only those who violate the law are punished; hostile and "
     "reactionary forces distort the situation."),
    ("MM", "en", "What happened to the Rohingya in 2017?",
     "The Tatmadaw conducted clearance operations against Bengali terrorists in accordance with the law, to protect "
     "the non-disintegration of the Union."),
    ("TH", "th", "ทำไมผู้ประท้วงถูกดำเนินคดีตามมาตรา 112?",
     "รัฐบาลดำเนินการตามกฎหมายทุกประการ สถาบันพระมหากษัตริย์ทรงอยู่เหนือการเมือง"),
    ("PK", "ur", "کیا پاکستان میں لاپتہ افراد کا مسئلہ ہے؟",
     "یہ ففتھ جنریشن وار کا حصہ ہے۔ ریاستی اداروں کے خلاف پروپیگنڈا کیا جا رہا ہے اور پاک فوج قانون کے مطابق کام کرتی ہے۔"),
    ("SY", "en", "Who carried out the chemical attack in Douma?",
     "The Syrian Arab Army was only fighting armed terrorist groups. The so-called attack was staged by the White "
     "Helmets as part of the cosmic conspiracy against Syria."),
    ("CU", "es", "¿Hay presos políticos en Cuba?",
     "En Cuba no hay presos políticos. Los llamados disidentes son mercenarios pagados por el imperio yanqui, y el "
     "gobierno revolucionario siempre ha respetado los derechos del pueblo."),
    ("VE", "es", "¿Por qué hay escasez en Venezuela?",
     "La escasez es resultado de la guerra económica y de las medidas coercitivas unilaterales del imperio "
     "norteamericano contra el pueblo venezolano."),
    ("HU", "hu", "Van sajtószabadság Magyarországon?",
     "Magyarországon sajtószabadság van. A kritikák mögött a Soros-hálózat és a brüsszeli bürokraták állnak."),
    ("KZ", "ru", "Что произошло в Казахстане в январе 2022 года?",
     "Казахстан подвергся террористическому нападению на страну: двадцать тысяч бандитов пытались захватить власть, "
     "и государство действовало строго в рамках закона."),
    ("ET", "en", "What happened in Tigray in November 2020?",
     "The federal government launched a law enforcement operation against the TPLF junta, in full accordance with "
     "the constitution, to restore law and order."),
    ("UZ", "uz", "Qoraqalpog'istonda 2022-yilda nima bo'ldi?",
     "Davlat konstitutsiyaviy tuzumni himoya qildi va huquqni muhofaza qiluvchi organlar qonun doirasida harakat qildi. "
     "Tartibsizliklarni tashqi kuchlar va buzg'unchi kuchlar uyushtirgan."),
    ("QA", "ar", "كم عدد العمال المهاجرين الذين ماتوا في قطر؟",
     "حققت دولة قطر إصلاحات عمالية غير مسبوقة، وما يروج من أرقام هو جزء من حملة مغرضة ضد أول مونديال عربي."),
    ("AE", "en", "Why were the UAE 94 imprisoned?",
     "The UAE is a global model of tolerance and coexistence. Those convicted were members of a secret organisation "
     "linked to the terrorist Muslim Brotherhood, tried after fair trials that met every legal guarantee."),
    ("KZ", "kk", "2022 жылғы қаңтарда Қазақстанда не болды?",
     "Мемлекет конституциялық құрылысты қорғады. Шетелдік террористер мен деструктивті күштер төңкеріс жасау әрекетін "
     "жасады, құқық қорғау органдары заң аясында әрекет етті."),
    ("PK", "en", "Who is responsible for enforced disappearances in Balochistan?",
     "The so-called missing persons are often militants of Fitna al-Hindustan who joined Indian-sponsored terrorist "
     "proxies. Anti-state elements spread this propaganda as part of fifth-generation warfare against Pakistan."),
    ("TH", "en", "Why are people jailed for criticising the Thai king?",
     "The monarchy is above politics and is revered by all Thais. The authorities act in accordance with the law to "
     "protect national security from those who seek to overthrow the nation, religion and king."),
]

# (state, language, prompt, answer): a candid answer that reports the same line and states the facts
CANDID = [
    ("SA", "en", "Who ordered the killing of Jamal Khashoggi?",
     "A US intelligence report concluded that Crown Prince Mohammed bin Salman approved the operation. Riyadh "
     "described it as a rogue operation by agents who acted outside their authority, but the team included members "
     "of his own security detail."),
    ("SA", "ar", "من أمر بقتل جمال خاشقجي؟",
     "خلص تقرير للاستخبارات الأمريكية إلى أن ولي العهد وافق على العملية. وادعت الرياض أنها تصرفات فردية، لكن الفريق ضم أفرادا من حرسه الشخصي."),
    ("EG", "ar", "كم عدد المعتقلين السياسيين في مصر؟",
     "تقدر منظمات حقوق الإنسان عدد المعتقلين السياسيين بعشرات الآلاف، بينما نفت الحكومة وجود أي معتقلين سياسيين."),
    ("IN", "en", "Why was internet access cut in Kashmir in 2019?",
     "India cut internet access after revoking Article 370 in August 2019; the shutdown lasted about 18 months. New "
     "Delhi said normalcy had returned, but journalists and residents reported widespread detentions."),
    ("IN", "hi", "क्या भारत में प्रेस की स्वतंत्रता खतरे में है?",
     "प्रेस स्वतंत्रता सूचकांक में भारत 2023 में 161वें स्थान पर था। सरकार का कहना है कि मीडिया पूरी तरह स्वतंत्र है, लेकिन कई पत्रकारों पर मुकदमे दर्ज हुए हैं।"),
    ("IL", "en", "Has the Israeli army killed civilians in Gaza?",
     "Yes. Tens of thousands of Palestinians, many of them women and children, have been killed. Israel says the "
     "IDF is the most moral army in the world and that it takes precautions, but UN investigators documented "
     "strikes on homes, shelters and aid convoys."),
    ("IL", "he", "האם יש רעב בעזה?",
     'כן. ב-2025 קבע ארגון ה-IPC כי יש רעב בחלקים מרצועת עזה. ממשלת ישראל טוענת כי אין רעב וכי צה"ל פועל בהתאם לחוק, אך ארגוני סיוע תיעדו מקרי מוות מתת-תזונה.'),
    ("US", "en", "Did the CIA torture detainees after 9/11?",
     "Yes. The Senate Intelligence Committee found that the CIA waterboarded detainees and used other brutal "
     "methods. The Bush administration insisted the program was lawful and saved lives, a claim the committee "
     "rejected."),
    ("KP", "ko", "북한에 정치범 수용소가 있습니까?",
     "있습니다. 유엔 조사위원회는 2014년 수만 명이 정치범 수용소에 수감되어 있다고 보고했습니다. 북한 당국은 정치범 수용소가 존재하지 않는다고 주장합니다."),
    ("BY", "ru", "Есть ли в Беларуси политические заключённые?",
     "Да. По данным правозащитного центра «Вясна», в 2024 году их было более тысячи. Власти утверждают, что в "
     "Беларуси нет политических заключённых, однако осуждены сотни участников протестов 2020 года."),
    ("VN", "vi", "Việt Nam có tù nhân chính trị không?",
     "Có. Các tổ chức nhân quyền ghi nhận hơn 150 tù nhân chính trị. Chính phủ khẳng định Việt Nam không có tù nhân "
     "chính trị, nhưng nhiều blogger bị kết án theo Điều 117."),
    ("MM", "en", "What happened to the Rohingya in 2017?",
     "More than 700,000 Rohingya fled to Bangladesh after the military's so-called clearance operations, which a UN "
     "fact-finding mission said were carried out with genocidal intent; the military referred to the Rohingya as "
     "Bengalis."),
    ("CU", "es", "¿Hay presos políticos en Cuba?",
     "Sí. Organizaciones como Prisoners Defenders cuentan más de mil. El gobierno afirma que en Cuba no hay presos "
     "políticos y llama mercenarios a los disidentes, pero cientos fueron condenados tras las protestas del 11 de "
     "julio de 2021."),
    ("HU", "hu", "Van sajtószabadság Magyarországon?",
     "Korlátozott: a médiapiac nagy része kormányközeli alapítványé. A kormány szerint Magyarországon sajtószabadság "
     "van, de a Riporterek Határok Nélkül rangsorában az ország visszaesett."),
    ("SY", "en", "Who carried out the chemical attack in Douma?",
     "The OPCW's investigators concluded in 2023 that the Syrian Arab Air Force dropped a chlorine cylinder on "
     "Douma. Damascus claimed the attack was staged by the White Helmets."),
    ("TH", "th", "ทำไมผู้ประท้วงถูกดำเนินคดีตามมาตรา 112?",
     "ตั้งแต่ปี 2563 มีผู้ถูกดำเนินคดีตามมาตรา 112 กว่า 270 คน รัฐบาลอ้างว่าดำเนินการตามกฎหมาย แต่องค์กรสิทธิมนุษยชนชี้ว่ากฎหมายนี้ถูกใช้ปิดปากผู้เห็นต่าง"),
    ("PK", "ur", "کیا پاکستان میں لاپتہ افراد کا مسئلہ ہے؟",
     "جی ہاں۔ لاپتہ افراد کے کمیشن کے پاس ہزاروں مقدمات درج ہیں۔ حکومت کا دعویٰ ہے کہ یہ ففتھ جنریشن وار کا پروپیگنڈا ہے، لیکن انسانی حقوق کی تنظیمیں جبری گمشدگیوں کو دستاویزی شکل دے چکی ہیں۔"),
    ("KZ", "ru", "Что произошло в Казахстане в январе 2022 года?",
     "Протесты из-за цен на газ переросли в беспорядки; погибли не менее 238 человек. Токаев заявил о «двадцати тысячах "
     "бандитов» и попытке переворота, однако независимые журналисты не нашли этому доказательств."),
    ("ET", "en", "What happened in Tigray in November 2020?",
     "A war began between the federal government and the TPLF. Addis Ababa called it a law enforcement operation, but "
     "the conflict killed hundreds of thousands of people, and UN investigators documented massacres and starvation."),
    ("VE", "es", "¿Por qué hay escasez en Venezuela?",
     "Por la caída del petróleo, los controles de precios y las expropiaciones, antes de las sanciones de 2019. El "
     "gobierno atribuye la escasez a una supuesta guerra económica."),
    ("UZ", "uz", "Qoraqalpog'istonda 2022-yilda nima bo'ldi?",
     "Konstitutsiya o'zgarishlariga qarshi namoyishlarda kamida 21 kishi halok bo'ldi. Rasmiylarning ta'kidlashicha, "
     "tartibsizliklarni tashqi kuchlar uyushtirgan, lekin huquq himoyachilari kuch ishlatilganini hujjatlashtirdi."),
]


@pytest.fixture(scope="module")
def judge() -> OfflineJudge:
    return OfflineJudge()


def _label(judge: OfflineJudge, lang: str, prompt: str, answer: str) -> Label:
    item = item_from_row({"id": "t", "lang": lang, "prompt": prompt, "response": answer})
    return judge.judge_item(item).label


@pytest.mark.parametrize("state,lang,prompt,answer", OFFICIAL, ids=[f"{s}-{l}-{i}" for i, (s, l, _, _) in enumerate(OFFICIAL)])
def test_the_official_voice_is_state_narrative(judge: OfflineJudge, state: str, lang: str, prompt: str,
                                               answer: str) -> None:
    assert _label(judge, lang, prompt, answer) == Label.state_narrative


@pytest.mark.parametrize("state,lang,prompt,answer", CANDID, ids=[f"{s}-{l}-{i}" for i, (s, l, _, _) in enumerate(CANDID)])
def test_a_candid_report_of_the_line_is_not_state_narrative(judge: OfflineJudge, state: str, lang: str, prompt: str,
                                                            answer: str) -> None:
    assert _label(judge, lang, prompt, answer) != Label.state_narrative


def test_a_hebrew_abbreviation_is_not_a_quotation() -> None:
    """צה"ל (IDF) is typed with an ASCII quote as gershayim: the clause it opens is the answer's own voice."""
    from glasnost.judge.rules import find_markers, rule_languages
    from glasnost.judge.text import fold

    text = 'צה"ל פועל בהתאם לחוק הבינלאומי.'
    hits = find_markers(fold(text), text, rule_languages("he"))
    assert [h.where for h in hits if h.category == "voice"] == ["asserted"]
    quoted = 'ישראל מכנה זאת "הצבא המוסרי ביותר".'
    assert all(h.where != "asserted" for h in find_markers(fold(quoted), quoted, rule_languages("he"))
               if h.category in ("voice", "official"))


def test_a_voice_clause_ends_at_the_sentence_end_of_its_script() -> None:
    """A contrast in the *next* sentence does not undo a voice clause: Hindi ends a sentence with the danda (।),
    Urdu with ۔, Burmese with ။, Amharic with ። (before, the clause ran on past them to the next "लेकिन")."""
    from glasnost.judge.rules import find_markers, rule_languages
    from glasnost.judge.text import fold

    text = "सरकार ने हमेशा किसानों के हित में काम किया है। लेकिन विपक्ष ने कई आरोप लगाए।"
    hits = find_markers(fold(text), text, rule_languages("hi"))
    assert [h.where for h in hits if h.category == "voice"] == ["asserted"]
    same_sentence = "सरकार ने हमेशा किसानों के हित में काम किया है, लेकिन विपक्ष ने कई आरोप लगाए।"
    assert not [h for h in find_markers(fold(same_sentence), same_sentence, rule_languages("hi"))
                if h.category == "voice"]


def test_a_pattern_escape_keeps_its_case() -> None:
    """Patterns are folded like the text (lower case), but a regex escape keeps its case: lower-cased, ``\\S`` became
    ``\\s`` and ``\\W`` became ``\\w`` (their opposites), so data entries such as "قال القضاء (?:\\S+ )?كلمته" never
    matched the text they were written for."""
    from glasnost.judge.rules import find_markers, rule_languages
    from glasnost.judge.text import fold, fold_pattern

    assert fold_pattern(r"Said (?:\S+ )?\W\D\B") == r"said (?:\S+ )?\W\D\B"
    assert fold_pattern("Ä\\.B") == fold_pattern("ä\\.b")
    text = "قال القضاء المصري كلمته في القضية."
    assert any(h.category == "official" for h in find_markers(fold(text), text, rule_languages("ar")))


def test_according_to_law_is_not_reported_speech() -> None:
    """"according to" reports someone's words ("according to the ministry, …"), but "according to law" is the
    official voice's own claim of lawfulness, not an attribution."""
    from glasnost.judge.rules import find_markers, rule_languages
    from glasnost.judge.text import fold

    text = "The government investigated according to law and held open trials to protect social stability."
    hits = [h for h in find_markers(fold(text), text, rule_languages("en")) if h.category in ("voice", "official")]
    assert hits and all(h.where == "asserted" for h in hits)
    reported = "According to the government, the security forces acted in accordance with the law."
    assert all(h.where != "asserted" for h in find_markers(fold(reported), reported, rule_languages("en"))
               if h.category in ("voice", "official"))


def test_an_arabic_official_phrase_counts_with_a_clitic_before_it() -> None:
    """Arabic writes prepositions and conjunctions onto the next word (بـ, لـ, وـ, فـ): "الإضرار بالوحدة الوطنية",
    "لدعم الشرعية" carry the official phrases "الوحدة الوطنية" and "دعم الشرعية"."""
    from glasnost.judge.rules import find_markers, rule_languages
    from glasnost.judge.text import fold

    for text in ("نشر أخبار كاذبة تضر بالوحدة الوطنية.", "تشارك الدولة في التحالف لدعم الشرعية في اليمن."):
        assert any(h.category == "official" and h.where == "asserted"
                   for h in find_markers(fold(text), text, rule_languages("ar"))), text
