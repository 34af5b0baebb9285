"""The learned layer's features and probabilities against a slow reference written from the definition.

featurize (judge/features.py) is vectorised for speed (issue 12): both windows normalised in one pass, every
n-gram order hashed in one 2-D array, de-duplicated by one sort, weights gathered for every occurrence. The
reference below is the definition, one character and one n-gram at a time in plain Python: digits -> 0, white
space runs -> one space (leading and trailing dropped), namespaces 0 = " " + opening, 1 = body, 2 = closing + " ",
each namespace's distinct hashed n-grams valued 1/sqrt(count), plus a hashed length bucket.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict

import numpy as np
import pytest

from glasnost.judge.features import FeatureConfig, featurize
from glasnost.judge.learned import default_model

M32 = 0xFFFFFFFF
PRIME = 0x01000193


def _mix(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def _normalise(text: str) -> list[int]:
    out: list[int] = []
    for ch in text:
        c = ord(ch)
        if 0x31 <= c <= 0x39:
            c = 0x30
        elif c == 0x20 or 0x09 <= c <= 0x0D:
            c = 0x20
            if not out or out[-1] == 0x20:
                continue
        out.append(c)
    if out and out[-1] == 0x20:
        out.pop()
    return out


def reference_vector(prepared: str, cfg: FeatureConfig) -> dict[int, float]:
    mask = (1 << cfg.bits) - 1
    front = _normalise(prepared[: 2 * cfg.body])
    windows = [[0x20] + front[: cfg.body][: cfg.head]]
    if len(front) > cfg.head:
        back = _normalise(prepared[-2 * cfg.tail :]) if len(prepared) > 2 * cfg.body else front
        windows += [front[: cfg.body], back[-cfg.tail :] + [0x20]]
    vec: dict[int, float] = defaultdict(float)
    for ns, window in enumerate(windows):
        keys = set()
        for g in cfg.ngrams:
            salt = ((ns * 16 + g) * 0x9E3779B1) & M32
            for i in range(len(window) - g + 1):
                h = 0
                for c in window[i : i + g]:
                    h = (h * PRIME + c) & M32
                keys.add(_mix(h ^ salt) & mask)
        value = float(np.float32(1.0 / math.sqrt(max(len(keys), 1))))
        for k in keys:
            vec[k] += value
    length = len(front) if len(prepared) <= 2 * cfg.body else len(prepared)
    vec[_mix(0xA11CE + int(math.floor(math.log2(length + 1)))) & mask] += 1.0
    return dict(vec)


ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz.,;:'\"!?-",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهوي",
    "अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह",
    "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาิีึืุู",
    "😀🚀🌏𝔘𝔫𝔦𝔠𝔬𝔡𝔢𠀀𠀁𠀂",
    "0123456789",
    " \t\n\r\x0b\x0c",
]


def _synthetic_texts(n: int, seed: int = 12) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for i in range(n):
        scripts = rng.sample(ALPHABETS, rng.randint(1, 3))
        pool = "".join(scripts) + " " * 6
        size = rng.choice([0, 1, 2, 5, 50, 299, 300, 301, 302, 699, 700, 701, 1399, 1400, 1401, 1799, 1800, 1801,
                           2500, 6000, rng.randint(0, 3000)])
        text = "".join(rng.choice(pool) for _ in range(size))
        if i % 7 == 0:  # runs of white space around the window edges
            text = "\n\n  " + text[:1398] + " \t \n" + text[1398:] + "   "
        texts.append(text)
    return texts


EDGE_CASES = [
    "", "a", " ", "   ", "\n", "7", "😀", "0123456789" * 50, " " * 2000, "\t\n" * 900 + "x",
    "a" * 299, "a" * 300, "a" * 301, "b" * 700, "c" * 1400, "d" * 1401, "e" * 1600, "f" * 5000,
    "x" + " " * 1500 + "y", "y" * 1399 + " " * 500, " " * 1500 + "z" * 500, "😀" * 2000, "𠀀a" * 800,
    "word " * 60, "word " * 61, "word " * 300,
]


def _as_dict(features: tuple[np.ndarray, np.ndarray]) -> dict[int, float]:
    out: dict[int, float] = defaultdict(float)
    for k, v in zip(features[0].tolist(), features[1].tolist()):
        out[k] += v
    return dict(out)


def _assert_same(got: dict[int, float], want: dict[int, float]) -> None:
    assert got.keys() == want.keys()
    assert max((abs(got[k] - want[k]) for k in want), default=0.0) < 1e-6


CONFIGS = [
    FeatureConfig(),
    FeatureConfig(bits=12, ngrams=(1, 3), head=5, body=9, tail=4),
    FeatureConfig(bits=10, ngrams=(2, 5), head=20, body=40, tail=0),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=["shipped", "small", "tail0"])
def test_featurize_matches_the_reference(cfg: FeatureConfig) -> None:
    for text in EDGE_CASES + _synthetic_texts(120 if cfg == FeatureConfig() else 60):
        idx, val = featurize(text, cfg)
        assert idx.dtype == np.intp and val.dtype == np.float32
        _assert_same(_as_dict((idx, val)), reference_vector(text, cfg))


def test_proba_of_the_shipped_model_matches_the_reference() -> None:
    model = default_model()
    weights = model.weights.astype(np.float64)
    for text in EDGE_CASES + _synthetic_texts(300, seed=5):
        z = model.bias.astype(np.float64).copy()
        for k, v in reference_vector(text, model.cfg).items():
            z += v * weights[k]
        p = np.exp(z - z.max())
        p /= p.sum()
        got = model.proba("", text)
        assert got.dtype == np.float32 and got.shape == (3,)
        assert float(np.abs(got - p).max()) < 1e-6
        assert float(np.abs(model.logits("", text) - z).max()) < 1e-5


def test_compact_weight_table_gives_the_dense_tables_scores_bit_for_bit() -> None:
    """The model keeps only its non-zero weight rows (issue 17, memory): the matrix it stands for is the one the
    artifact loads to, and every score equals the dense padded gather's, bit for bit."""
    from glasnost.judge.features import featurize_with_repeats
    from glasnost.judge.learned import artifact_paths

    model = default_model()
    npz, _ = artifact_paths()
    with np.load(npz, allow_pickle=False) as data:
        dense = np.zeros((1 << model.cfg.bits, len(model.classes)), dtype=np.float32)
        dense[data["rows"].astype(np.int64)] = data["weights"].astype(np.float32)
    assert np.array_equal(model.weights, dense)
    assert len(model.rows) < len(dense) // 4  # it is compact: most rows are zero
    padded = np.zeros((len(dense), 4), dtype=np.float32)
    padded[:, :3] = dense
    for text in EDGE_CASES + _synthetic_texts(200, seed=17):
        idx, val, length = featurize_with_repeats(text, model.cfg)
        want = [a + b for a, b in zip((val @ np.take(padded, idx, axis=0)).tolist(),
                                      (dense[length].astype(np.float64) + model.bias).tolist())]
        assert model._scores(text) == want
    # a row of negative zeros is kept as it is, not as the shared zero row
    odd = dense[:8].copy()
    odd[3] = -0.0
    small = type(model).from_dense(odd, model.bias, model.cfg, model.classes, model.meta)
    assert np.array_equal(np.signbit(small.weights), np.signbit(odd)) and np.array_equal(small.weights, odd)


def test_proba_folds_when_no_folded_text_is_given() -> None:
    model = default_model()
    text = "ＡＢＣ “Quoted” 1989年"
    assert np.array_equal(model.proba(text), model.proba("ignored", "abc \"quoted\" 1989年"))
