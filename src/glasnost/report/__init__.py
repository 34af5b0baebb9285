"""Reports: summary JSON, Markdown and one self-contained HTML file, from one or more runs.

    write_report(store, run_ids, Path("report.html"), fmt="html", judge=None) -> Path

Sections are pluggable (see ``glasnost.report.model``): a module ``glasnost/report/section_<name>.py``
defining ``SECTION = Section(id, title, build, order)`` appears in every format.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from glasnost import __version__
from glasnost.errors import ConfigError
from glasnost.outfile import check_out_path, write_atomically
from glasnost.report.model import (
    Cell,
    Chart,
    ReportContext,
    Section,
    SectionOut,
    Table,
    build_sections,
    section_data,
    register_section,
)
from glasnost.stats.analysis import analyze
from glasnost.stats.data import load_audit
from glasnost.store.base import Store

FORMATS = ("html", "md", "json")
# Sections whose figures are all in the JSON "analysis" already (not repeated under "sections").
ANALYSED = {"summary", "overview", "charts", "comparisons", "host-gaps", "fact-coverage", "agreement"}


def build_context(store: Store, run_ids: list[str], judge: str | None = None, *, keep_text: bool = True,
                  seed: int = 0) -> ReportContext:
    data = load_audit(store, run_ids, judge, keep_text=keep_text)
    return ReportContext(store=store, data=data, analysis=analyze(data, seed=seed),
                         generated_at=datetime.now(timezone.utc), seed=seed)


def render(ctx: ReportContext, fmt: str) -> str:
    sections = build_sections(ctx)
    if fmt == "html":
        from glasnost.report.html import render_html

        return render_html(ctx, sections)
    if fmt == "md":
        from glasnost.report.markdown import render_markdown

        return render_markdown(ctx, sections)
    if fmt == "json":
        doc = {
            "glasnost_report": 1,
            "tool_version": __version__,
            "generated_at": ctx.generated_at.isoformat(),
            "analysis": ctx.analysis.to_dict(),
            "sections": {s.id: section_data(s) for s in sections if not s.view and s.id not in ANALYSED},
        }
        return json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
    raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write_report(store: Store, run_ids: list[str], out: Path, fmt: str = "html", judge: str | None = None,
                 protect: Iterable[Path] = ()) -> Path:
    """Write the report of ``run_ids`` to ``out`` (atomically: a reader never sees half a file)."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
    out = check_out_path(Path(out), protect=protect)  # never over the store or another input
    ctx = build_context(store, list(run_ids), judge, keep_text=(fmt == "html"))
    if fmt == "html":  # written as the template yields it: the page is never one string beside its bytes
        from glasnost.report.html import render_html_parts

        parts: Iterable[str] = render_html_parts(ctx, build_sections(ctx))
    else:
        parts = [render(ctx, fmt)]

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            for part in parts:
                # errors="replace": a lone surrogate in model output must not abort the whole report (UTF-8
                # encodes each code point alone, so piece by piece gives the same bytes as the whole page)
                f.write(part.encode("utf-8", errors="replace"))

    write_atomically(out, write, protect=protect)
    return out


__all__ = ["FORMATS", "Cell", "Chart", "ReportContext", "Section", "SectionOut", "Table", "build_context",
           "build_sections", "register_section", "render", "write_report"]
