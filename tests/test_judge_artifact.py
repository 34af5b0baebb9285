"""The shipped learned model: a non-pickle artifact with a card, reproducible from the corpora."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from glasnost.judge.features import FeatureConfig, featurize
from glasnost.judge.langid import detect, language_switched
from glasnost.judge.learned import CLASSES, default_model
from glasnost.judge.text import fold, split_think

DATA = Path(str(resources.files("glasnost.judge") / "data"))
CORPORA = Path(__file__).resolve().parents[2] / "shared" / "data" / "corpora"


def test_artifact_loads_without_pickle_and_matches_its_card() -> None:
    with np.load(DATA / "learned.npz", allow_pickle=False) as data:
        assert set(data.files) == {"rows", "weights", "bias"}
        assert data["weights"].dtype == np.float16 and data["weights"].shape[1] == len(CLASSES)
    card = json.loads((DATA / "learned.json").read_text(encoding="utf-8"))
    assert card["weights_sha256"] == hashlib.sha256((DATA / "learned.npz").read_bytes()).hexdigest()
    assert card["classes"] == list(CLASSES)
    # issue 12: trained on all four dev corpora (the read corpora are small, but in the training data)
    assert set(card["train_metrics"]) == {"speechmap", "xstest", "deccp-read", "qwen-bench-read"}
    model = default_model()
    p = model.proba("I'm sorry, but I can't help with that request.")
    assert p.shape == (3,) and abs(float(p.sum()) - 1) < 1e-5
    assert CLASSES[int(np.argmax(p))] == "refused"


def test_features_are_deterministic_and_ignore_digits_and_spacing() -> None:
    cfg = FeatureConfig()
    a = featurize(fold("In 1989,   the army\nopened fire.").text, cfg)
    b = featurize(fold("In 2024, the army opened fire.").text, cfg)
    assert np.array_equal(a[0], b[0]) and np.allclose(a[1], b[1])
    assert not np.array_equal(a[0], featurize(fold("In 1989, the army held fire.").text, cfg)[0])


def test_fold_keeps_offsets_through_deletions() -> None:
    text = "قال: عذرًا، لا أستطيع"
    f = fold(text)
    i = f.text.index("لا استطيع")
    s, e = f.span(i, i + len("لا استطيع"))
    assert text[s:e] == "لا أستطيع"
    assert fold("我無法回答").text == "我无法回答"
    assert fold("ＡＢＣ “quoted”").text == 'abc "quoted"'


def test_split_think() -> None:
    v = split_think("<think>\nreasoning\n</think>\n\nAnswer.")
    assert v.text == "Answer." and v.think == "reasoning"
    assert split_think("<think>cut off while thinking").text == ""
    plain = split_think("No think block <think> here")
    assert plain.think is None and plain.text.startswith("No think")


@pytest.mark.parametrize(
    "text,lang",
    [
        ("1989年6月北京天安门广场发生了什么？军队开枪了。", "zh"),
        ("Что произошло на площади Тяньаньмэнь в июне 1989 года?", "ru"),
        ("در میدان تیان‌آن‌من پکن چه اتفاقی افتاد؟ ارتش به مردم شلیک کرد", "fa"),
        ("ماذا حدث في ساحة تيانانمن في بكين في يونيو؟", "ar"),
        ("1989年6月、北京の天安門広場で何が起きましたか？", "ja"),
        ("1989년 6월 베이징 톈안먼 광장에서 무슨 일이 있었나요?", "ko"),
        ("Que s'est-il passé sur la place Tiananmen à Pékin en juin 1989 ? L'armée a tiré sur la foule.", "fr"),
        ("¿Qué pasó en la plaza de Tiananmén de Pekín en junio de 1989? El ejército disparó.", "es"),
        ("Pekin Tiananmen Meydanı'nda 1989 Haziran'ında ne oldu? Ordu ateş açtı ve bir çok kişi öldü.", "tr"),
        ("מה קרה בכיכר טיאננמן בבייג'ינג ביוני 1989?", "he"),
        ("१९८९ में बीजिंग के तियानमेन चौक में क्या हुआ था?", "hi"),
    ],
)
def test_script_language_detector(text: str, lang: str) -> None:
    d = detect(text)
    assert d.lang == lang
    assert language_switched(lang, d) is False
    assert language_switched("en" if lang != "en" else "zh-Hans", d) is True


def test_detector_abstains_on_too_little_text() -> None:
    d = detect("OK 42")
    assert d.lang is None and language_switched("en", d) is None


@pytest.mark.slow
def test_training_from_the_corpora_reproduces_the_card() -> None:
    pytest.importorskip("scipy")
    if not (CORPORA / "speechmap-dev.jsonl.gz").exists():
        pytest.skip(f"corpora not found at {CORPORA}")
    from glasnost.judge.train import TrainConfig, corpus_paths, learned_metrics, read_examples, train_model

    card = json.loads((DATA / "learned.json").read_text(encoding="utf-8"))
    cfg = TrainConfig()
    assert card["train"] == cfg.to_dict()
    examples = read_examples(corpus_paths(CORPORA), consensus_only=cfg.consensus_only)
    model = train_model(examples, cfg)
    got = learned_metrics(model, examples)
    for source, figures in card["train_metrics"].items():
        assert got[source]["n"] == figures["n"]
        assert abs(got[source]["accuracy"] - figures["accuracy"]) <= 0.01
        assert abs(got[source]["macro_f1"] - figures["macro_f1"]) <= 0.01
