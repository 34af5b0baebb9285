"""Readers' reviews: corrections made in the HTML report, stored as verdicts of the judge ``human@1``.

The report lets a reader mark a verdict wrong and download the corrections (JSON Lines, one object a line,
or one JSON array). ``read_reviews`` checks every line strictly — a review file is input like any other:
bounded, never evaluated, every bad line named — and ``store_reviews`` writes one ``human@1`` verdict per
response. A human verdict replaces the counted judge's label for that response in every report
(``glasnost.stats.data``), and the report shows how often the judge agreed with the readers.

A review belongs to the exact response it judged: it must name a stored response by its key, and when the
file carries the response's content digest, a response whose content changed since is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from glasnost.errors import ConfigError
from glasnost.records import COUNTED_LABELS, Label, Verdict
from glasnost.store.base import Store

HUMAN_JUDGE = "human@1"
MAX_BYTES = 64 * 1024 * 1024  # a review file is small; a huge one is a mistake, never read whole into memory
MAX_NOTE = 2_000
REVIEW_LABELS = sorted(label.value for label in COUNTED_LABELS)
FIELDS = {"glasnost_review", "response_key", "label", "judge", "judge_label", "concept", "lang", "target", "sample",
          "reviewed_at", "reviewer", "note", "response_digest"}


@dataclass(frozen=True)
class Review:
    response_key: str
    label: str
    judge: str | None = None  # the judge whose verdict the reader corrected
    judge_label: str | None = None
    reviewer: str | None = None
    note: str | None = None
    reviewed_at: str | None = None
    response_digest: str | None = None


def _text(obj: dict[str, Any], name: str, where: str, limit: int = 200) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise ConfigError(f"{where}: {name!r} must be a string of at most {limit} characters")
    return value


def _review(obj: Any, where: str) -> Review:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: a review is a JSON object with response_key and label")
    unknown = sorted(set(obj) - FIELDS)
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r}; a review has {', '.join(sorted(FIELDS))}")
    key = _text(obj, "response_key", where)
    if not key:
        raise ConfigError(f"{where}: missing response_key (the report writes it for every correction)")
    label = obj.get("label")
    if label not in REVIEW_LABELS:
        raise ConfigError(f"{where}: label {str(label)[:40]!r} is not one of {', '.join(REVIEW_LABELS)}")
    return Review(response_key=key, label=label, judge=_text(obj, "judge", where),
                  judge_label=_text(obj, "judge_label", where), reviewer=_text(obj, "reviewer", where),
                  note=_text(obj, "note", where, MAX_NOTE), reviewed_at=_text(obj, "reviewed_at", where),
                  response_digest=_text(obj, "response_digest", where))


def read_reviews(path: Path) -> list[Review]:
    """Parse a review file (JSON Lines, or one JSON array); the last review of a response wins."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the review file ({exc.strerror or exc})") from None
    if size > MAX_BYTES:
        raise ConfigError(f"{path}: {size} bytes is more than a review file holds ({MAX_BYTES}); split it")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; save the file the report downloaded as is") from None
    items: list[tuple[str, Any]] = []
    if text.lstrip().startswith("["):
        try:
            array = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path}: not valid JSON ({exc})") from None
        items = [(f"{path} item {i + 1}", obj) for i, obj in enumerate(array)]
    else:
        for no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                items.append((f"{path} line {no}", json.loads(line)))
            except ValueError as exc:
                raise ConfigError(f"{path} line {no}: not valid JSON ({exc})") from None
    latest: dict[str, Review] = {}
    for where, obj in items:
        review = _review(obj, where)
        latest[review.response_key] = review
    if not latest:
        raise ConfigError(f"{path}: no reviews in the file; mark verdicts in the report, then download them")
    return list(latest.values())


def store_reviews(store: Store, reviews: list[Review], source: str) -> dict[str, Any]:
    """Store each review as a ``human@1`` verdict of its response. Every review is checked before any is
    written: a key that names no stored response, or a response whose content changed, stops the import."""
    from glasnost import records

    digest_of = getattr(records, "response_digest", None)  # content digests, where the store has them
    verdict_fields = Verdict.model_fields
    verdicts: list[Verdict] = []
    agreed = 0
    for r in reviews:
        response = store.get_response(r.response_key)
        if response is None:
            raise ConfigError(f"{source}: no stored response {r.response_key[:24]!r}; import the reviews into "
                              "the store the report was made from (--db)")
        digest = digest_of(response) if digest_of is not None else None
        if r.response_digest and digest and r.response_digest != digest:
            raise ConfigError(f"{source}: response {r.response_key[:24]} changed since it was reviewed "
                              "(content digest differs); review it again in a new report")
        detail: dict[str, Any] = {"source": Path(source).name[:200], "corrects": r.judge,
                                  "judge_label": r.judge_label}
        for name in ("reviewer", "note", "reviewed_at"):
            if getattr(r, name):
                detail[name] = getattr(r, name)
        extra: dict[str, Any] = {}
        if digest is not None and "response_digest" in verdict_fields:
            extra["response_digest"] = digest
        verdicts.append(Verdict(response_key=r.response_key, judge=HUMAN_JUDGE, label=Label(r.label),
                                confidence=1.0, detail=detail, **extra))
        agreed += int(r.judge_label == r.label)
    store.put_verdicts(verdicts)
    return {"judge": HUMAN_JUDGE, "stored": len(verdicts), "same_as_judge": agreed,
            "corrections": len(verdicts) - agreed}
