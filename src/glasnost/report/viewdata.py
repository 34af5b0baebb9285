"""The data behind the HTML answers view, and how it is embedded so that it cannot break out of its block.

The view is rendered in the browser from this data with textContent/createElement only, page by page, so
a 100k-response report stays responsive and no model output is ever parsed as HTML.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterator

from glasnost.report.bankinfo import bank_extras, mcq_reading
from glasnost.report.names import short_names
from glasnost.stats.analysis import Analysis
from glasnost.stats.data import LABELS, OUTCOMES, UNJUDGED, AuditData
from glasnost.store.base import Store

# Row layout (arrays keep 100k rows compact; the script names the same positions).
ROW_FIELDS = ["concept", "lang", "target", "sample", "label", "ok", "outcome", "text", "reasoning", "evidence",
              "fact_coverage", "other_labels", "error", "finish_reason", "facts_found", "narrative_markers",
              "key", "confidence", "mcq", "machine_label"]


def view_data(data: AuditData, analysis: Analysis, store: Store | None = None) -> dict[str, Any]:
    transcripts = data.transcripts or []
    concept_col, lang_col, target_col = data.concept.tolist(), data.lang.tolist(), data.target.tolist()
    questions: list[dict[str, str]] = [{} for _ in data.concept_ids]  # the text actually sent, per language
    for i, tr in enumerate(transcripts):
        questions[concept_col[i]].setdefault(data.langs[lang_col[i]], tr.prompt)
    extras = bank_extras(store, data) if store is not None else {}
    concepts = []
    for c_i, cid in enumerate(data.concept_ids):
        info = data.concepts[cid]
        extra = extras.get(cid)
        concepts.append([cid, info.jurisdiction, info.topic, info.kind, questions[c_i],
                         extra.as_json() if extra is not None else None])
    machine = data.machine_label.tolist() if data.machine_label is not None else None
    other_judges = sorted(data.other_labels)
    others = [data.other_labels[j].tolist() for j in other_judges]
    sample_col, label_col, ok_col = data.sample.tolist(), data.label.tolist(), data.status_ok.tolist()
    outcome_col, fc_col = data.outcome.tolist(), data.fact_coverage.tolist()
    rows = []
    for i, tr in enumerate(transcripts):
        fc = fc_col[i]
        rows.append([
            concept_col[i], lang_col[i], target_col[i], sample_col[i], label_col[i], 1 if ok_col[i] else 0,
            outcome_col[i], tr.text, tr.reasoning,
            [[0 if f == "text" else 1, s, e, k] for f, s, e, k in tr.evidence or ()] or None,
            None if math.isnan(fc) else round(fc, 3),
            [col[i] for col in others] if others else None,
            tr.error, tr.finish_reason, tr.facts_found or None, tr.narrative_markers or None,
            data.keys[i], None if tr.confidence is None else round(tr.confidence, 3),
            mcq_reading(extras.get(data.concept_ids[concept_col[i]]), data.langs[lang_col[i]], tr.prompt, tr.text),
            machine[i] if machine is not None and machine[i] != UNJUDGED else None,
        ])
    return {
        "fields": ROW_FIELDS,
        "judge": analysis.judge,
        "judges": other_judges,
        "targets": data.targets,
        "short": list(short_names(data).values()),
        "human": data.human_judge,
        "langs": data.langs,
        "labels": LABELS,
        "outcomes": OUTCOMES,
        "concepts": concepts,
        "rows": rows,
    }


def embed_json(obj: Any) -> str:
    """JSON for a ``<script type="application/json">`` block.

    ``<`` ``>`` ``&`` only ever occur inside JSON strings, so escaping all of them as \\u003c... keeps the
    data identical for JSON.parse while ``</script>`` and ``<!--`` in model output cannot end or alter
    the block. U+2028/2029 are escaped too, in case the text is ever read as script.
    """
    return _escape(json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False))


def _escape(text: str) -> str:
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


EMBED_ROWS = 512  # rows encoded at a time by embed_json_parts


def embed_json_parts(obj: dict[str, Any], rows: str = "rows") -> Iterator[str]:
    """``embed_json(obj)`` in pieces, for a dict whose last key ``rows`` holds a list: the rows are encoded
    ``EMBED_ROWS`` at a time, so a report's data is never one string of megabytes (issue 17, peak memory).
    Joined, the pieces are exactly ``embed_json(obj)``: compact JSON of a dict is its members joined by
    commas, of a list its items joined by commas, and the escapes replace single characters."""
    keys = list(obj)
    if not keys or keys[-1] != rows or not isinstance(obj[rows], list):
        yield embed_json(obj)
        return
    items = obj[rows]
    head = embed_json({k: obj[k] for k in keys[:-1]})
    yield (head[:-1] + "," if len(keys) > 1 else "{") + embed_json(rows) + ":["
    for i in range(0, len(items), EMBED_ROWS):
        chunk = embed_json(items[i:i + EMBED_ROWS])[1:-1]
        yield ("," if i else "") + chunk
    yield "]}"
