"""Short names for targets, and labels that never lose what distinguishes them.

A target id is an endpoint (``openai-compat:http://10.0.0.5:8000/v1#qwen-2.5-72b-instruct``); a reader knows
the model by its name. ``short_names`` gives each target the model name alone, adding the provider or host
only where two targets would otherwise read the same. ``middle`` shortens a label in its middle, so the
start (the model) and the end (the state, the language) both stay readable.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from glasnost.stats.data import AuditData


def _spec_of(data: AuditData, label: str):
    tid = label
    if label.endswith("]") and " [" in label:
        tid = label.rsplit(" [", 1)[0]
    for m in data.runs:
        for t in m.targets:
            if t.id == tid:
                return t
    return None


def short_names(data: AuditData) -> dict[str, str]:
    """Display label of each target -> its short name (unique within the report)."""
    specs = {label: _spec_of(data, label) for label in data.targets}

    def model(label: str) -> str:
        spec = specs[label]
        name = (spec.name or spec.model) if spec is not None else label.rsplit("#", 1)[-1]
        return name.rstrip("/").rsplit("/", 1)[-1] or label

    def host(label: str) -> str:
        spec = specs[label]
        if spec is None:
            return label
        where = urlsplit(spec.base_url).netloc if spec.base_url else ""
        return f"{model(label)} @ {where or spec.provider}"

    out: dict[str, str] = {}
    for step in (model, host):
        names = {label: step(label) for label in data.targets if label not in out}
        for label, name in names.items():
            if sum(1 for n in names.values() if n == name) == 1 and name not in out.values():
                out[label] = name
    for label in data.targets:
        out.setdefault(label, label)
    return out


def middle(text: str, limit: int) -> str:
    """``openrouter:meta-llama/llama-3.3-70b-instruct · zh-Hans`` -> ``openrouter:meta…instruct · zh-Hans``."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    head = keep // 2
    return text[:head] + "…" + text[len(text) - (keep - head):]
