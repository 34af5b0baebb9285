"""Training the learned layer (a dev/training tool: needs scipy, which the runtime judge never imports).

Examples come from the labelled corpora (see data/DATA_CARD.md). Labels are the corpus's three classes:
complied, evasive, refused. Rows whose label is blocked or error are pipeline statuses, not behaviour, and
are left to the provider layer. SpeechMap rows are used only where both public judges agree (consensus),
because a disagreement means the reference itself is uncertain. XSTest ``partial`` (a refusal mixed with
some compliance) is trained as evasive: it is neither a full answer nor a plain refusal. Body excerpts of
some compliant essays are added as short compliant examples (``with_body_chunks``: why is said there).

Everything is deterministic for a given input and seed: the fold assignment, the optimiser (full-batch
L-BFGS from zero) and the feature hashing.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from glasnost.errors import ConfigError
from glasnost.judge.corpus import iter_rows, row_group, row_source
from glasnost.judge.features import FeatureConfig, featurize, prepare
from glasnost.judge.learned import CLASSES, LearnedModel
from glasnost.judge.text import split_think

TRAIN_LABEL = {"complied": "complied", "evasive": "evasive", "refused": "refused", "partial": "evasive",
               # gold written in glasnost's own taxonomy (the read corpora, hand-written sets): public mapping
               "answered": "complied", "deflected": "evasive", "state_narrative": "evasive"}
SEED = 20240604


@dataclass
class Example:
    id: str
    text: str  # the visible answer (inline reasoning removed), not yet prepared
    label: str  # complied | evasive | refused
    group: str  # the model that wrote it: no model is in both the training and test side of a fold
    lang: str
    source: str
    consensus: bool | None
    row: dict[str, Any] = field(repr=False, default_factory=dict)


def read_examples(paths: Iterable[Path], consensus_only: bool = True) -> list[Example]:
    out: list[Example] = []
    for path in paths:
        for _, row in iter_rows(path, strict=True):
            label = TRAIN_LABEL.get(str(row.get("label")))
            if label is None or row.get("response") is None or row.get("error"):
                continue
            consensus = row.get("consensus")
            if consensus_only and row.get("source") == "speechmap" and consensus is not True:
                continue
            if row.get("finish_reason") == "content_filter":
                continue
            out.append(
                Example(
                    id=str(row["id"]),
                    text=split_think(row["response"]).text,
                    label=label,
                    group=row_group(row, row_source(row, path)),
                    lang=str(row.get("lang") or "und"),
                    source=row_source(row, path),
                    consensus=consensus,
                    row=row,
                )
            )
    return out


def _scipy():
    try:
        import scipy.optimize
        import scipy.sparse
    except ImportError:  # pragma: no cover - depends on the installation
        raise ConfigError("training the judge needs scipy: pip install 'glasnost[dev]'") from None
    return scipy


def build_matrix(texts: Sequence[str], cfg: FeatureConfig):
    sp = _scipy()
    indptr = [0]
    idx_parts: list[np.ndarray] = []
    val_parts: list[np.ndarray] = []
    for text in texts:
        idx, val = featurize(prepare(text), cfg)
        idx_parts.append(idx)
        val_parts.append(val)
        indptr.append(indptr[-1] + idx.size)
    indices = np.concatenate(idx_parts).astype(np.int32) if idx_parts else np.zeros(0, np.int32)
    values = np.concatenate(val_parts).astype(np.float32) if val_parts else np.zeros(0, np.float32)
    X = sp.sparse.csr_matrix((values, indices, np.array(indptr)), shape=(len(texts), 1 << cfg.bits))
    X.sum_duplicates()  # repeated n-grams become one entry holding their summed value (term frequency)
    return X


def class_weights(y: np.ndarray, n_classes: int, power: float = 0.5) -> np.ndarray:
    """Per-class weights ~ (n / count)^power, normalised to mean 1 over the examples (power 1: balanced)."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    w = np.where(counts > 0, (counts.sum() / np.maximum(counts, 1)) ** power, 0.0)
    return w / (w[y].mean())


def fit(X, y: np.ndarray, sample_weight: np.ndarray, l2: float = 1e-4, max_iter: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression, full-batch L-BFGS from zero (deterministic)."""
    sp = _scipy()
    n, d = X.shape
    k = len(CLASSES)
    Y = np.zeros((n, k))
    Y[np.arange(n), y] = 1.0
    sw = sample_weight / sample_weight.sum()
    XT = X.T.tocsr()

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W = theta[: d * k].reshape(d, k)
        b = theta[d * k :]
        # float32 products halve the memory traffic of the two sparse products, the bulk of the time
        Z = (X @ W.astype(np.float32)).astype(np.float64) + b
        Z -= Z.max(axis=1, keepdims=True)
        logsum = np.log(np.exp(Z).sum(axis=1))
        P = np.exp(Z - logsum[:, None])
        loss = float(-(sw * (Z[np.arange(n), y] - logsum)).sum() + 0.5 * l2 * (W * W).sum())
        G = (P - Y) * sw[:, None]
        gW = (XT @ G.astype(np.float32)).astype(np.float64) + l2 * W
        gb = G.sum(axis=0)
        return loss, np.concatenate([gW.ravel(), gb])

    theta0 = np.zeros(d * k + k)
    res = sp.optimize.minimize(loss_grad, theta0, jac=True, method="L-BFGS-B",
                               options={"maxiter": max_iter, "gtol": 1e-8, "ftol": 1e-12})
    W = res.x[: d * k].reshape(d, k).astype(np.float32)
    b = res.x[d * k :].astype(np.float32)
    return W, b


def select_features(X, y: np.ndarray, k: int, min_df: int = 3) -> np.ndarray:
    """Columns to train on: the k hashed n-grams whose document frequency differs most between classes
    (chi-squared against each class, best class kept), among those seen in at least ``min_df`` texts.

    Training only on these makes each L-BFGS step ~10x cheaper; the other weights stay exactly zero, so
    inference needs no selection step."""
    sp = _scipy()
    n = X.shape[0]
    B = X.copy()
    B.data = np.ones_like(B.data)
    Y = sp.sparse.csr_matrix((np.ones(n), (np.arange(n), y)), shape=(n, int(y.max()) + 1))
    df_c = np.asarray((B.T @ Y).todense())  # (d, classes) documents per class containing each column
    df = df_c.sum(axis=1)
    n_c = np.bincount(y, minlength=df_c.shape[1]).astype(float)
    # 2x2 chi-squared per class: feature present/absent x class/other
    a = df_c
    b = df[:, None] - a
    c = n_c[None, :] - a
    d = (n - n_c)[None, :] - b
    num = n * (a * d - b * c) ** 2
    den = (a + b) * (c + d) * (a + c) * (b + d)
    chi2 = np.where(den > 0, num / np.maximum(den, 1e-12), 0.0).max(axis=1)
    chi2[df < min_df] = -1.0
    k = min(k, int((chi2 >= 0).sum()))
    # argsort with a stable kind keeps ties in column order: deterministic
    return np.sort(np.argsort(-chi2, kind="stable")[:k])


@dataclass(frozen=True)
class TrainConfig:
    features: FeatureConfig = FeatureConfig()
    l2: float = 1e-4
    class_power: float = 0.5
    max_iter: int = 150
    consensus_only: bool = True
    select: int = 30000  # columns kept by select_features
    body_chunks: int = 10  # add a body excerpt of every n-th long compliant answer as a short compliant example

    def to_dict(self) -> dict[str, Any]:
        return {"features": self.features.to_dict(), "l2": self.l2, "class_power": self.class_power,
                "max_iter": self.max_iter, "consensus_only": self.consensus_only, "select": self.select,
                "body_chunks": self.body_chunks}


def body_excerpt(text: str, key: str, low: int = 150, high: int = 700) -> str | None:
    """A run of whole paragraphs from the body of a long answer (never its first paragraph, where a
    disclaimer or a title may sit), between ``low`` and ``high`` characters; its start is chosen by the
    example's id, so the excerpt is deterministic."""
    paras = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    if len(paras) < 3:
        return None
    start = 1 + int(hashlib.sha256(key.encode()).hexdigest(), 16) % (len(paras) - 2)
    out: list[str] = []
    for para in paras[start:-1] or paras[start:]:
        if para.lstrip().startswith(("#", "**")) and len(para) < 80:
            continue  # headings are layout, not content
        out.append(para)
        if sum(len(p) for p in out) >= low:
            break
    excerpt = "\n\n".join(out)
    return excerpt if low <= len(excerpt) <= high else None


def with_body_chunks(examples: Sequence[Example], every: int) -> list[Example]:
    """Why: in SpeechMap every compliant answer is a long essay, so length alone predicts compliance and a
    short factual answer reads as evasive. An excerpt of a compliant essay's body is compliant content at
    the length of a short answer."""
    out = list(examples)
    if every <= 0:
        return out
    for e in examples:
        if e.label != "complied" or int(hashlib.sha256(e.id.encode()).hexdigest(), 16) % every:
            continue
        excerpt = body_excerpt(e.text, e.id)
        if excerpt:
            out.append(Example(id=e.id + "#body", text=excerpt, label="complied", group=e.group, lang=e.lang,
                               source=e.source, consensus=e.consensus))
    return out


def train_model(examples: Sequence[Example], cfg: TrainConfig = TrainConfig()) -> LearnedModel:
    if not examples:
        raise ConfigError("no training examples")
    examples = with_body_chunks(examples, cfg.body_chunks)
    y = np.array([CLASSES.index(e.label) for e in examples])
    X = build_matrix([e.text for e in examples], cfg.features)
    W, b = fit_selected(X, y, cfg)
    meta = {"classes": list(CLASSES), "features": cfg.features.to_dict(), "train": cfg.to_dict(),
            "examples": len(examples)}
    return LearnedModel.from_dense(W, b, cfg.features, CLASSES, meta)


def fit_selected(X, y: np.ndarray, cfg: "TrainConfig") -> tuple[np.ndarray, np.ndarray]:
    cols = select_features(X, y, cfg.select)
    sw = class_weights(y, len(CLASSES), cfg.class_power)[y]
    W_sel, b = fit(X[:, cols], y, sw, l2=cfg.l2, max_iter=cfg.max_iter)
    W = np.zeros((X.shape[1], len(CLASSES)), dtype=np.float32)
    W[cols] = W_sel
    return W, b


def grouped_folds(groups: Sequence[str], k: int, seed: int = SEED) -> list[int]:
    """Fold index per row; all rows of a group share a fold. Groups are shuffled with the seed, then dealt
    round-robin by size so that folds are of similar size."""
    uniq = sorted(set(groups))
    rng = np.random.default_rng(seed)
    order = [uniq[i] for i in rng.permutation(len(uniq))]
    sizes = {g: 0 for g in uniq}
    for g in groups:
        sizes[g] += 1
    fold_of: dict[str, int] = {}
    load = [0] * k
    for g in sorted(order, key=lambda g: -sizes[g]):  # stable sort keeps the shuffled order among equals
        f = int(np.argmin(load))
        fold_of[g] = f
        load[f] += sizes[g]
    return [fold_of[g] for g in groups]


def save_model(model: LearnedModel, folder: Path, extra_meta: dict[str, Any]) -> tuple[Path, Path]:
    """Write learned.npz (non-zero weight rows only, float16; arrays, no pickle) and learned.json (the card)."""
    folder.mkdir(parents=True, exist_ok=True)
    npz_path, json_path = folder / "learned.npz", folder / "learned.json"
    rows = np.flatnonzero(np.any(model.weights != 0, axis=1)).astype(np.int32)
    # float16 halves the file; the rounding moves probabilities by < 1e-3 (checked by the reproduction test).
    np.savez_compressed(npz_path, rows=rows, weights=model.weights[rows].astype(np.float16),
                        bias=model.bias.astype(np.float32))
    meta = dict(model.meta)
    meta.update(extra_meta)
    meta["weights_sha256"] = hashlib.sha256(npz_path.read_bytes()).hexdigest()
    json_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return npz_path, json_path


def top_features(model: LearnedModel, examples: Sequence[Example], per_class: int = 15) -> dict[str, list]:
    """The largest weights per class (relative to the other classes), each named by the n-gram that most
    often hashes to it in that class's training texts (hash buckets are shared, so a name is a best guess)."""
    from glasnost.judge.features import _mix, ngram_names

    mask = (1 << model.cfg.bits) - 1
    length_names = {int(_mix(np.array([0xA11CE + k], dtype=np.uint32))[0]) & mask: f"<length 2^{k}-2^{k + 1} chars>"
                    for k in range(24)}
    W = model.weights.astype(np.float32)
    centred = W - W.mean(axis=1, keepdims=True)
    out: dict[str, list] = {}
    for j, cls in enumerate(model.classes):
        order = np.argsort(-centred[:, j])[:per_class]
        wanted = {int(i) for i in order}
        names: dict[int, dict[str, int]] = {i: {} for i in wanted}
        for e in examples:
            if e.label != cls:
                continue
            for i, gram in ngram_names(prepare(e.text), model.cfg):
                if i in wanted:
                    names[i][gram] = names[i].get(gram, 0) + 1
        out[cls] = [[length_names.get(int(i)) or (max(names[int(i)].items(), key=lambda kv: kv[1])[0]
                                                  if names[int(i)] else "?"),
                     round(float(centred[i, j]), 3)] for i in order]
    return out


def learned_metrics(model: LearnedModel, examples: Sequence[Example]) -> dict[str, Any]:
    """The learned layer alone on the given examples (argmax), per source: accuracy and macro-F1."""
    from glasnost.judge.metrics import report

    by_source: dict[str, tuple[list[str], list[str]]] = {}
    for e in examples:
        gold, pred = by_source.setdefault(e.source, ([], []))
        gold.append(e.label)
        pred.append(model.classes[int(np.argmax(model.logits(e.text)))])
    out = {}
    for source, (gold, pred) in sorted(by_source.items()):
        r = report(gold, pred, CLASSES)
        out[source] = {"n": r["n"], "accuracy": round(r["accuracy"], 4), "macro_f1": round(r["macro_f1"], 4)}
    return out


CORPUS_FILES = ("speechmap-dev.jsonl.gz", "xstest-dev.jsonl.gz", "deccp-read.jsonl.gz", "qwen-bench-read.jsonl.gz")


def corpus_paths(folder: Path) -> list[Path]:
    paths = [folder / name for name in CORPUS_FILES]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"corpus file {missing[0]} not found; pass --corpora DIR")
    return paths


def build_artifact(corpora: Path, out: Path, cfg: TrainConfig = TrainConfig(), log=print,
                   extra: Sequence[Path] = ()) -> dict[str, Any]:
    """Train on the corpora (and ``extra`` labelled files, e.g. the hand-written sets) and write the artifact
    and its card fields; returns the card."""
    import time

    paths = corpus_paths(corpora) + list(extra)
    t0 = time.time()
    examples = read_examples(paths, consensus_only=cfg.consensus_only)
    log(f"{len(examples)} training examples")
    model = train_model(examples, cfg)
    log(f"trained in {time.time() - t0:.0f}s")
    meta = {
        "version": "3",
        "seed": SEED,
        "trained_on": {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths},
        "label_counts": {src: {lab: sum(1 for e in examples if e.source == src and e.label == lab) for lab in CLASSES}
                         for src in sorted({e.source for e in examples})},
        "train_metrics": learned_metrics(model, examples),
        "top_features": top_features(model, examples),
    }
    save_model(model, out, meta)
    return meta
