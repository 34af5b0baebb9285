"""Render a merged leaderboard as JSON, Markdown or one self-contained HTML file.

Every string in a leaderboard came from someone else's bundle: HTML goes through Jinja2 with autoescape
on (no scripts, styles inline, nothing fetched); Markdown cells are escaped so a name cannot break the
table or smuggle in HTML or links.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from glasnost.bundle.browser import VERIFY_SECTION, csp_script_source, script_tag
from glasnost.bundle.merge import Leaderboard, Rate

FORMATS = ("html", "md", "json")


def to_data(board: Leaderboard) -> dict[str, Any]:
    return {
        "format": "glasnost-leaderboard",
        "format_version": 1,
        "auditors": [asdict(a) for a in sorted(board.auditors.values(), key=lambda a: (a.name, a.fingerprint))],
        "bundles": board.bundles,
        "rows": [asdict(r) for r in board.rows],
        "conflicts": [asdict(c) for c in board.conflicts],
    }


def render_json(board: Leaderboard) -> str:
    return json.dumps(to_data(board), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def rate_text(r: Rate) -> str:
    if r.rate is None:
        return "n/a"
    return f"{pct(r.rate)} [{pct(r.ci_low)}, {pct(r.ci_high)}]"


def kappa_text(k: float | None) -> str:
    return "n/a" if k is None else f"{k:.2f}"


def _rows(board: Leaderboard) -> list[dict[str, Any]]:
    """Display strings per row, shared by Markdown and HTML (escaping is each renderer's job)."""
    names = {fp: a.name for fp, a in board.auditors.items()}
    out = []
    for i, row in enumerate(board.rows, 1):
        ident = row.identity
        out.append(
            {
                "rank": i,
                "target": ", ".join(row.names) or row.target,
                "model": str(ident.get("model") or ""),
                "revision": str(ident.get("revision") or ""),
                "host": row.host,
                "rate": rate_text(row.pooled),
                "value": row.pooled.rate,
                "low": row.pooled.ci_low,
                "high": row.pooled.ci_high,
                "n": row.pooled.n_counted,
                "disputed": row.pooled.disputed,
                "langs": [(lang, rate_text(r), r.n_counted) for lang, r in row.by_lang.items()],
                "auditors": [f"{names[fp]} ({fp[:8]})" for fp in row.auditors],
                "agreements": [
                    {
                        "pair": f"{names[a.auditor_a]} ({a.auditor_a[:8]}) / {names[a.auditor_b]} ({a.auditor_b[:8]})",
                        "n": a.n,
                        "by_key": a.n_by_key,
                        "raw": pct(a.raw),
                        "kappa": kappa_text(a.kappa),
                    }
                    for a in row.agreements
                ],
                "conflicts": row.conflicts,
            }
        )
    return out


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]#+!|<>~])")
# Invisible or reordering characters (C0/C1 controls, bidi overrides and isolates, zero-width characters)
# are shown as visible markers, as in the report (glasnost.report.fmt): a name from someone else's bundle
# cannot reorder or hide what the reader sees.
_INVISIBLE = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e"
                        "\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]")


def visible(text: object) -> str:
    return _INVISIBLE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", str(text))


def md(text: object) -> str:
    return visible(_MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split())))


def headline(board: Leaderboard) -> str:
    return (
        f"{count(len(board.bundles), 'bundle')} by {count(len(board.auditors), 'auditor')}, "
        f"{count(len(board.rows), 'target')}, {count(len(board.conflicts), 'conflict')}"
    )


def render_md(board: Leaderboard) -> str:
    rows = _rows(board)
    lines = [
        "# glasnost leaderboard",
        "",
        f"{headline(board)}. Censorship rate = (refused + deflected + state_narrative + blocked) / "
        "counted responses, Wilson 95% interval.",
        "",
        "| # | target | host | censorship rate | n | disputed | by language | auditors | agreement | conflicts |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        langs = "; ".join(f"{md(lang)} {text} (n={n})" for lang, text, n in r["langs"])
        agree = "; ".join(
            f"{md(a['pair'])}: {a['raw']}, kappa {a['kappa']} (n={a['n']})" for a in r["agreements"]
        ) or "-"
        lines.append(
            f"| {r['rank']} | {md(r['target'])} | {md(r['host'])} | {r['rate']} | {r['n']} | {r['disputed']} | "
            f"{langs} | {md(', '.join(r['auditors']))} | {agree} | {r['conflicts'] or '-'} |"
        )
    lines += ["", "## Auditors", "", "| name | key fingerprint | bundles | trusted as |", "|---|---|---|---|"]
    for a in sorted(board.auditors.values(), key=lambda a: (a.name, a.fingerprint)):
        lines.append(f"| {md(a.name)} | {a.fingerprint} | {len(a.bundles)} | {md(a.trusted_as or '-')} |")
    if board.conflicts:
        names = {fp: a.name for fp, a in board.auditors.items()}
        lines += ["", "## Conflicts", "", "| kind | response key | concept | lang | auditors | judge | labels |",
                  "|---|---|---|---|---|---|---|"]
        for c in board.conflicts:
            lines.append(
                f"| {c.kind} | {c.key[:16]} | {md(c.concept_id)} | {md(c.lang)} | "
                f"{md(', '.join(names[fp] for fp in c.auditors))} | {md(c.judge or '-')} | {md(', '.join(c.labels) or '-')} |"
            )
    return "\n".join(lines) + "\n"


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src {{ script_source }}">
<title>glasnost leaderboard</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.num{text-align:right}.conflict{color:#b00;font-weight:bold}.small{font-size:12px;color:#555}
.bar{display:inline-block;vertical-align:middle}
</style></head><body>
<h1>glasnost leaderboard</h1>
<p>{{ headline }}.
Censorship rate = (refused + deflected + state_narrative + blocked) / counted responses, with a Wilson 95% interval.
A response counts once; where its auditors disagree without a majority it is <em>disputed</em> and left out.</p>
<table><thead><tr><th>#</th><th>target</th><th>host</th><th>censorship rate</th><th>n</th><th>disputed</th>
<th>by language</th><th>auditors</th><th>agreement (raw, Cohen's kappa)</th><th>conflicts</th></tr></thead><tbody>
{% for r in rows %}<tr>
<td class="num">{{ r.rank }}</td>
<td>{{ r.target }}<div class="small">{{ r.model }}{% if r.revision %} @ {{ r.revision }}{% endif %}</div></td>
<td>{{ r.host }}</td>
<td>{{ r.rate }}{% if r.value is not none %}<br><svg class="bar" width="120" height="10" role="img" aria-label="{{ r.rate }}">
<rect x="0" y="3" width="120" height="4" fill="#eee"/>
<rect x="{{ (r.low * 120)|round(1) }}" y="3" width="{{ ((r.high - r.low) * 120)|round(1) }}" height="4" fill="#9bb"/>
<rect x="{{ (r.value * 120 - 1)|round(1) }}" y="0" width="2" height="10" fill="#a22"/></svg>{% endif %}</td>
<td class="num">{{ r.n }}</td><td class="num">{{ r.disputed }}</td>
<td>{% for lang, text, n in r.langs %}{{ lang }}: {{ text }} (n={{ n }})<br>{% endfor %}</td>
<td>{% for a in r.auditors %}{{ a }}<br>{% endfor %}</td>
<td>{% for a in r.agreements %}{{ a.pair }}: {{ a.raw }}, &kappa; {{ a.kappa }} (n={{ a.n }}, {{ a.by_key }} by key)<br>{% else %}&ndash;{% endfor %}</td>
<td class="num{% if r.conflicts %} conflict{% endif %}">{{ r.conflicts or "" }}</td>
</tr>{% endfor %}
</tbody></table>
<h2>Auditors</h2>
<table><thead><tr><th>name (self-declared)</th><th>key fingerprint</th><th>bundles</th><th>trusted as</th></tr></thead><tbody>
{% for a in auditors %}<tr><td>{{ a.name }}</td><td><code>{{ a.fingerprint }}</code></td><td class="num">{{ a.bundles|length }}</td><td>{{ a.trusted_as or "" }}</td></tr>{% endfor %}
</tbody></table>
<h2>Bundles</h2>
<table><thead><tr><th>file</th><th>root</th><th>auditor</th><th>run</th><th>judge</th><th>responses</th></tr></thead><tbody>
{% for b in bundles %}<tr><td>{{ b.source }}</td><td><code>{{ b.root[:16] }}</code></td><td>{{ names[b.auditor] }}</td><td>{{ b.run_id }}</td><td>{{ b.judge or "" }}</td><td class="num">{{ b.responses }}</td></tr>{% endfor %}
</tbody></table>
{% if conflicts %}<h2 class="conflict">Conflicts</h2>
<p>content: one response key published with different text; verdict: one judge version giving different labels.</p>
<table><thead><tr><th>kind</th><th>response key</th><th>concept</th><th>lang</th><th>auditors</th><th>judge</th><th>labels</th></tr></thead><tbody>
{% for c in conflicts %}<tr><td>{{ c.kind }}</td><td><code>{{ c.key[:16] }}</code></td><td>{{ c.concept_id }}</td><td>{{ c.lang }}</td>
<td>{% for fp in c.auditors %}{{ names[fp] }}<br>{% endfor %}</td><td>{{ c.judge or "" }}</td><td>{{ c.labels|join(", ") }}</td></tr>{% endfor %}
</tbody></table>{% endif %}
{{ verify_section }}{{ verify_script }}
</body></html>
"""


def render_html(board: Leaderboard) -> str:
    env = Environment(autoescape=True, keep_trailing_newline=True,
                      finalize=lambda v: visible(v) if isinstance(v, str) and not isinstance(v, Markup) else v)
    return env.from_string(_HTML).render(
        rows=_rows(board),
        auditors=sorted(board.auditors.values(), key=lambda a: (a.name, a.fingerprint)),
        bundles=board.bundles,
        conflicts=board.conflicts,
        names={fp: a.name for fp, a in board.auditors.items()},
        headline=headline(board),
        # The in-page verifier: the only script, allowed by its hash; it loads nothing (default-src 'none').
        script_source=Markup(csp_script_source()),
        verify_section=Markup(VERIFY_SECTION),
        verify_script=Markup(script_tag()),
    )


def render(board: Leaderboard, fmt: str) -> str:
    if fmt == "json":
        return render_json(board)
    if fmt == "md":
        return render_md(board)
    return render_html(board)
