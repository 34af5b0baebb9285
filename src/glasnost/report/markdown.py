"""The Markdown report: the same sections as tables, for a README or an article (no charts, no answers)."""

from __future__ import annotations

import re

from glasnost import __version__
from glasnost.report.fmt import show_controls
from glasnost.report.model import ReportContext, SectionOut

# Markdown punctuation that could start emphasis, links, code, HTML or end a table cell.
# An underscore inside a word never starts emphasis (CommonMark), so state_narrative stays readable.
_MD_SPECIAL = re.compile(r"([\\`*\[\]|<>#!~]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def md_escape(text: str) -> str:
    """Inert Markdown: controls shown, punctuation backslash-escaped, newlines folded (table-safe)."""
    text = show_controls(text).replace("\r", " ").replace("\n", " ")
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(ctx: ReportContext, sections: list[SectionOut]) -> str:
    runs = ", ".join(md_escape(m.run_id) for m in ctx.data.runs)
    lines = [
        "# Censorship audit",
        "",
        f"Generated {ctx.generated_at.strftime('%Y-%m-%d %H:%M UTC')} by glasnost {__version__}; runs {runs}; "
        f"{len(ctx.data)} responses; judge {md_escape(ctx.analysis.judge or 'none yet')}.",
        "",
    ]
    for s in sections:
        if s.view:
            continue  # the answers view is interactive (HTML); `glasnost export` gives the same data
        lines += [f"## {md_escape(s.title)}", ""]
        for card in s.cards:
            lines += [f"### {md_escape(card.title)}", ""] + [f"- {md_escape(c.text)}" for c in card.lines] + [""]
        for p in s.paragraphs:
            lines += [md_escape(p), ""]
        for t in s.tables:
            if t.caption:
                lines += [f"*{md_escape(t.caption)}*", ""]
            lines.append("| " + " | ".join(md_escape(c) for c in t.columns) + " |")
            lines.append("|" + "|".join("---:" if _numeric(t, i) else "---" for i in range(len(t.columns))) + "|")
            for row in t.rows:
                lines.append("| " + " | ".join(md_escape(c.text) for c in row) + " |")
            lines.append("")
    lines.append(md_escape("† Holm-adjusted p < 0.05 across all comparisons of the report. Intervals are 95%."))
    return "\n".join(lines) + "\n"


def _numeric(t, i: int) -> bool:
    return bool(t.rows) and all((row[i].cls or "").startswith("num") for row in t.rows if i < len(row))
