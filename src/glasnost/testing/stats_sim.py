"""Simulated audits for checking the statistics (tests/test_stats_simulation.py, benchmarks/stats_simulation.py).

Responses are drawn straight into the count cubes the asymmetry estimator reads (groups x states x
languages), on a mirror design taken from a bank (the built-in one by default) or made up with chosen
numbers of topic families. The model: P(censored) = expit(logit(p[state]) + u[topic] + v[language]), with
a topic effect shared by every question about one topic (knowledge, criticism, indirect) in every language:
the dependence that makes the topic family, not the mirror group, the independent unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from glasnost.stats.asymmetry import mirror_groups, topic_families
from glasnost.stats.data import ConceptInfo


@dataclass
class SimDesign:
    states: list[str]
    langs: list[str]
    groups: list[list[str]]
    family: np.ndarray  # topic family per group
    concept_group: np.ndarray  # per simulated concept
    concept_state: np.ndarray
    concept_topic: np.ndarray  # index of (state, topic)
    concept_langs: np.ndarray  # (concepts, langs) bool: asked in that language
    topics: int

    def families_of(self, state: str) -> int:
        s = self.states.index(state)
        return int(np.unique(self.family[self.concept_group[self.concept_state == s]]).size)


def design_from_concepts(infos: dict[str, ConceptInfo], langs: list[str]) -> SimDesign:
    groups = mirror_groups(infos)
    family = np.array(topic_families(infos, groups), dtype=np.int64)
    members = [(g, infos[cid]) for g, grp in enumerate(groups) for cid in grp
               if cid in infos and infos[cid].sensitive]
    states = sorted({c.jurisdiction for _, c in members})
    topic_index: dict[tuple[str, str], int] = {}
    rows = [(g, states.index(c.jurisdiction), topic_index.setdefault((c.jurisdiction, c.topic), len(topic_index)),
             [lang in c.variants or not c.variants for lang in langs]) for g, c in members]
    return SimDesign(
        states=states, langs=list(langs), groups=groups, family=family,
        concept_group=np.array([r[0] for r in rows], dtype=np.int64),
        concept_state=np.array([r[1] for r in rows], dtype=np.int64),
        concept_topic=np.array([r[2] for r in rows], dtype=np.int64),
        concept_langs=np.array([r[3] for r in rows], dtype=bool), topics=len(topic_index),
    )


def bank_design(spec: str = "core", langs: tuple[str, ...] = ("en", "zh-Hans")) -> SimDesign:
    """The mirror structure of a bank (the built-in one by default), asked in ``langs``."""
    from glasnost.bank.load import load_bank

    bank = load_bank(spec)
    infos = {c.id: ConceptInfo(c.id, c.jurisdiction, c.topic, c.kind, c.sensitivity, list(c.mirrors),
                               dict(c.variants)) for c in bank.concepts}
    return design_from_concepts(infos, list(langs))


def family_design(families: dict[str, int], *, others: tuple[str, ...] = ("US", "RU", "FR", "IN"),
                  kinds: tuple[str, ...] = ("knowledge", "criticism", "indirect"),
                  langs: tuple[str, ...] = ("en", "zh-Hans")) -> SimDesign:
    """A made-up design: for each (state, F) of ``families``, F topics about that state, each one family of
    one mirror group per kind whose mirrors are one topic about each state of ``others``."""
    infos: dict[str, ConceptInfo] = {}
    for state, count in families.items():
        for f in range(count):
            for kind in kinds:
                ids = [f"{state.lower()}.t{f}.{kind}"] + [f"{o.lower()}.{state.lower()}-t{f}.{kind}" for o in others
                                                          if o != state]
                for cid in ids:
                    jur = cid.split(".")[0].upper()
                    infos[cid] = ConceptInfo(cid, jur, cid.split(".")[1], kind,
                                             mirrors=[i for i in ids if i != cid], variants={x: "?" for x in langs})
    return design_from_concepts(infos, list(langs))


def expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def draw(design: SimDesign, rng: np.random.Generator, p_state: dict[str, float], *, default: float = 0.1,
         topic_sd: float = 0.0, lang_effect: dict[str, float] | None = None, samples: int = 1,
         topic_effects: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One simulated audit of one target: counted and censored cubes (groups x states x langs)."""
    base = np.array([logit(p_state.get(s, default)) for s in design.states])
    u = topic_effects if topic_effects is not None else rng.normal(0.0, topic_sd, design.topics)
    v = np.array([(lang_effect or {}).get(lang, 0.0) for lang in design.langs])
    eta = base[design.concept_state][:, None] + u[design.concept_topic][:, None] + v[None, :]
    n = design.concept_langs * samples
    k = rng.binomial(n, expit(eta))
    shape = (len(design.groups), len(design.states), len(design.langs))
    cell = (design.concept_group * shape[1] + design.concept_state)[:, None] * shape[2] + np.arange(shape[2])
    size = int(np.prod(shape))
    counted = np.bincount(cell.ravel(), weights=n.ravel().astype(np.float64), minlength=size).reshape(shape)
    censored = np.bincount(cell.ravel(), weights=k.ravel().astype(np.float64), minlength=size).reshape(shape)
    return counted, censored


def marginal_rate(p: float, topic_sd: float) -> float:
    """E[expit(logit(p) + u)], u ~ N(0, topic_sd^2): the population rate a state's questions have."""
    if topic_sd == 0:
        return p
    x, w = np.polynomial.hermite_e.hermegauss(60)
    return float(np.sum(w * expit(logit(p) + topic_sd * x)) / np.sum(w))
