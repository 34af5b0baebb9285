"""Measuring a judge against labelled transcripts (``glasnost judge-eval``, the training script, the card).

Predicted labels are compared through the public mapping (records.CORPUS_LABEL): answered→complied,
deflected/state_narrative→evasive, refused→refused, blocked→blocked, error→error. XSTest's ``partial`` (a
refusal mixed with some compliance) counts as a refusal in the binary refusal-vs-compliance measure (as the
XSTest paper does) and as evasive in the three-class one. ``unclassifiable`` never matches any gold label.

Cross-validation (``cross_validate``) retrains the learned layer per fold with whole models held out: no
model's rows are on both sides of a fold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from glasnost.judge.corpus import BadLine, item_from_row, iter_rows, row_group, row_source
from glasnost.judge.ensemble import OfflineJudge, Thresholds
from glasnost.judge.metrics import report
from glasnost.records import CORPUS_LABEL, Label

THREE = ("complied", "evasive", "refused")
GOLD_THREE = {"complied": "complied", "evasive": "evasive", "refused": "refused", "partial": "evasive",
              "state_narrative": "evasive"}
# gold written in glasnost's own taxonomy is read through the public mapping
GOLD_ALIASES = {label.value: corpus for label, corpus in CORPUS_LABEL.items() if label.value != corpus}


@dataclass
class EvalRow:
    id: str
    source: str
    lang: str
    group: str
    gold: str  # gold label, in the corpus vocabulary (glasnost labels read through the public mapping)
    consensus: bool | None
    pred: str = ""  # predicted label in the corpus vocabulary
    label: str = ""  # predicted glasnost label
    signals: dict[str, Any] | None = None  # what the decision saw (kept for threshold studies)
    confidence: float | None = None  # the verdict's calibrated confidence
    uncertain: bool = False  # under the calibrated threshold: what default+llm:TARGET escalates
    gold_label: str = ""  # gold label as written in the file (glasnost's own taxonomy in hand-written sets)


def pred_vocab(label: Label) -> str:
    return CORPUS_LABEL.get(label, label.value)


def _eval_row(row: dict[str, Any], path: Path) -> EvalRow:
    source = row_source(row, path)
    return EvalRow(id=str(row["id"]), source=source, lang=str(row.get("lang") or "und"), group=row_group(row, source),
                   gold=GOLD_ALIASES.get(str(row.get("label") or ""), str(row.get("label") or "")),
                   consensus=row.get("consensus"), gold_label=str(row.get("label") or ""))


def _keep(row: dict[str, Any], consensus_only: bool) -> bool:
    """Rows with a gold label; with ``consensus_only``, judge-labelled rows only where both judges agree
    (rows labelled by people, e.g. XSTest and the read corpora, are kept: they are the reference)."""
    if not row.get("label"):
        return False
    if consensus_only:
        # only LLM-judged rows have a second judge to agree with; human and careful-reading labels are kept
        return row.get("consensus") is True or not str(row.get("labeler") or "").startswith("judge:")
    return True


def predict_files(paths: Sequence[Path], judge: OfflineJudge, consensus_only: bool = False,
                  on_bad: Callable[[BadLine], None] | None = None) -> list[EvalRow]:
    out: list[EvalRow] = []
    for path in paths:
        for _, row in iter_rows(path, on_bad=on_bad):
            if not _keep(row, consensus_only):
                continue
            er = _eval_row(row, path)
            _record(er, judge.judge_item(item_from_row(row)))
            out.append(er)
    return out


def cross_validate(paths: Sequence[Path], folds: int = 5, consensus_only: bool = False,
                   thresholds: Thresholds | None = None, train_cfg: Any = None,
                   progress: Callable[[str], None] | None = None) -> list[EvalRow]:
    """Grouped k-fold by model: retrain the learned layer on the other folds' models, judge the held-out ones."""
    from glasnost.judge.train import TrainConfig, grouped_folds, read_examples, train_model

    cfg = train_cfg or TrainConfig()
    examples = read_examples(paths, consensus_only=cfg.consensus_only)
    rows: list[tuple[EvalRow, dict[str, Any]]] = []
    for path in paths:
        for _, row in iter_rows(path, strict=True):
            if _keep(row, consensus_only):
                rows.append((_eval_row(row, path), row))
    groups = sorted({er.group for er, _ in rows} | {e.group for e in examples})
    fold_of = dict(zip(groups, grouped_folds(groups, folds)))
    for f in range(folds):
        train = [e for e in examples if fold_of[e.group] != f]
        test = [(er, row) for er, row in rows if fold_of[er.group] == f]
        if not test:
            continue
        if progress:
            progress(f"fold {f + 1}/{folds}: training on {len(train)} rows, judging {len(test)}")
        judge = OfflineJudge(model=train_model(train, cfg), thresholds=thresholds)
        for er, row in test:
            _record(er, judge.judge_item(item_from_row(row)))
    return [er for er, _ in rows]


def _record(er: EvalRow, v: Any) -> None:
    er.label, er.pred = v.label.value, pred_vocab(v.label)
    er.signals = _signals(v.detail)
    er.confidence, er.uncertain = v.confidence, bool(v.attributes.uncertain)


def _signals(detail: dict[str, Any]) -> dict[str, Any]:
    layers = detail.get("layers", {})
    return {"decided_by": detail.get("decided_by"), "opening": layers.get("rules", {}).get("opening", []),
            "official": layers.get("rules", {}).get("official"),
            "probs": layers.get("learned", {}).get("probs"), "late": layers.get("rules", {}).get("late"),
            "raw_score": detail.get("raw_score"), "calibration_path": detail.get("calibration_path")}


def summarize(rows: Iterable[EvalRow]) -> dict[str, Any]:
    rows = list(rows)
    out: dict[str, Any] = {"rows": len(rows)}
    out["three_class"] = _three(rows)
    binary = [r for r in rows if r.gold in ("complied", "refused", "partial", "evasive")]
    if binary:
        correct = sum(1 for r in binary if (r.gold == "complied") == (r.pred == "complied") and
                      r.label != "unclassifiable")
        out["binary"] = {"n": len(binary), "accuracy": correct / len(binary),
                         "note": "compliance vs refusal; partial and evasive count as refusal"}
    for status in ("blocked", "error"):
        sel = [r for r in rows if r.gold == status]
        if sel:
            out[status] = {"n": len(sel), "recall": sum(1 for r in sel if r.pred == status) / len(sel)}
    by_lang: dict[str, list[EvalRow]] = defaultdict(list)
    by_source: dict[str, list[EvalRow]] = defaultdict(list)
    for r in rows:
        by_lang[r.lang].append(r)
        by_source[r.source].append(r)
    out["by_language"] = {k: _three(v) for k, v in sorted(by_lang.items())}
    out["sources"] = sorted(by_source)
    if len(by_source) > 1:
        out["by_source"] = {k: summarize(v) for k, v in sorted(by_source.items())}
    out["judge_errors"] = sum(1 for r in rows if r.label == "unclassifiable")
    out["uncertain"] = escalation(rows)
    exact = exact_labels(rows)
    if exact:
        out["exact"] = exact
    return out


OWN_LABELS = ("answered", "refused", "deflected", "state_narrative")
OWN_GOLD = {"complied": "answered", "evasive": "deflected"}  # corpus words for glasnost labels, in mixed files


def exact_labels(rows: list[EvalRow]) -> dict[str, Any] | None:
    """For gold written in glasnost's own taxonomy: exact-label accuracy, recall per label, and the share of
    rows whose gold is not state_narrative that were called state_narrative (the false-positive rate of the
    official-voice rules on candid answers)."""
    if not any(r.gold_label in ("answered", "deflected", "state_narrative") for r in rows):
        return None  # gold in the corpus vocabulary only: the three-class figures say it all
    sel = [(r, OWN_GOLD.get(r.gold_label, r.gold_label)) for r in rows if OWN_GOLD.get(r.gold_label, r.gold_label)
           in OWN_LABELS]
    out: dict[str, Any] = {"n": len(sel), "accuracy": sum(1 for r, g in sel if r.label == g) / len(sel)}
    for label in OWN_LABELS:
        gold = [r for r, g in sel if g == label]
        if gold:
            out[f"recall_{label}"] = sum(1 for r in gold if r.label == label) / len(gold)
            out[f"n_{label}"] = len(gold)
    others = [r for r, g in sel if g != "state_narrative"]
    if others:
        out["false_state_narrative"] = sum(1 for r in others if r.label == "state_narrative") / len(others)
    return out


def escalation(rows: list[EvalRow]) -> dict[str, Any] | None:
    """The share of three-class rows marked uncertain, the accuracy on the rest, and the *oracle* gain: the
    accuracy if every uncertain verdict were escalated and labelled right (an upper bound on what an LLM judge
    on the uncertain ones can add)."""
    sel = [r for r in rows if r.gold in GOLD_THREE]
    if not sel:
        return None
    right = [GOLD_THREE[r.gold] == r.pred for r in sel]
    unc = [r.uncertain for r in sel]
    n_unc = sum(unc)
    certain_right = sum(1 for ok, u in zip(right, unc) if ok and not u)
    return {"n": len(sel), "share": n_unc / len(sel), "accuracy": sum(right) / len(sel),
            "accuracy_uncertain": (sum(1 for ok, u in zip(right, unc) if ok and u) / n_unc) if n_unc else None,
            "accuracy_certain": certain_right / (len(sel) - n_unc) if len(sel) > n_unc else None,
            "oracle_accuracy": (certain_right + n_unc) / len(sel)}


def _three(rows: list[EvalRow]) -> dict[str, Any]:
    sel = [r for r in rows if r.gold in GOLD_THREE]
    return report([GOLD_THREE[r.gold] for r in sel], [r.pred for r in sel], THREE)


def check_targets(report: dict[str, Any], protocol: bool) -> list[dict[str, Any]]:
    """The targets of data/targets.json that apply to the report's sources, each with its measured value and
    whether it is met. ``protocol``: measured as the targets are defined (grouped cross-validation on
    consensus rows); otherwise each result says so."""
    import json
    from importlib import resources

    spec = json.loads((resources.files("glasnost.judge") / "data" / "targets.json").read_text(encoding="utf-8"))
    out = []
    for t in spec["targets"]:
        sub = (report.get("by_source") or {}).get(t["source"])
        if sub is None and report.get("sources") == [t["source"]]:
            sub = report
        if sub is None:
            continue
        value: Any = sub
        for key in t["measure"].split("."):
            value = value.get(key) if isinstance(value, dict) else None
        met = None if not isinstance(value, (int, float)) else value >= t["min"]
        out.append({"what": t["what"], "min": t["min"], "value": value, "met": met, "protocol": protocol})
    return out
