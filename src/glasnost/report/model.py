"""What a report is made of: sections of paragraphs, tables and charts, in every format the same.

A section is a function from the report context to a ``SectionOut`` (or None to leave it out). The HTML
and Markdown writers render any section generically and the JSON writer keeps its ``data``, so adding a
section (knows-vs-says, say) is one new module ``glasnost/report/section_<name>.py`` that defines
``SECTION = Section(...)``: it is discovered like CLI commands, and no writer changes.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from glasnost.stats.analysis import Analysis
from glasnost.stats.data import AuditData
from glasnost.store.base import Store


@dataclass
class Cell:
    text: str
    title: str | None = None  # detail (counts, method, p-values): a disclosure in HTML, never hover-only
    cls: str | None = None  # "num", "sig", "muted", "label-refused", ...


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    id: str = ""
    folded: bool = False  # long detail tables start closed (HTML <details>)


@dataclass
class Card:
    """One target's findings (the headline): a short name and plain sentences."""

    title: str
    lines: list[Cell]
    full: str = ""  # the target's full id, when the title is a short name


@dataclass
class Chart:
    svg: str  # SVG markup built by report.charts (every string in it escaped there)
    caption: str
    svg_narrow: str = ""  # the same chart laid out for phones (shown under 700 px), when it differs


@dataclass
class SectionOut:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    data: Any = None  # JSON-ready, for --format json; may be a function (only called for JSON)
    view: bool = False  # the interactive per-concept view goes here (HTML only)


@dataclass
class ReportContext:
    store: Store
    data: AuditData
    analysis: Analysis
    generated_at: datetime
    seed: int = 0


@dataclass
class Section:
    id: str
    title: str
    build: Callable[[ReportContext], SectionOut | None]
    order: int  # position in the report (summary 10 ... methods 90)


def cell(value: Any, title: str | None = None, cls: str | None = None) -> Cell:
    if isinstance(value, Cell):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Cell(str(value), title, cls or "num")
    return Cell("" if value is None else str(value), title, cls)


_REGISTRY: dict[str, Section] = {}
_DISCOVERED = False


def register_section(section: Section) -> Section:
    """Add (or replace, by id) a section."""
    _REGISTRY[section.id] = section
    return section


def sections() -> list[Section]:
    """Built-in sections and every ``glasnost.report.section_*`` module's SECTION, in order."""
    global _DISCOVERED
    if not _DISCOVERED:
        import glasnost.report as pkg
        from glasnost.report import sections_builtin, sections_detail  # noqa: F401  (they register)

        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if info.name.startswith("section_"):
                module = importlib.import_module(f"glasnost.report.{info.name}")
                extra = getattr(module, "SECTION", None)
                if isinstance(extra, Section):
                    register_section(extra)
        _DISCOVERED = True
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.id))


def section_data(section: SectionOut) -> Any:
    return section.data() if callable(section.data) else section.data


def build_sections(ctx: ReportContext) -> list[SectionOut]:
    out = []
    for section in sections():
        result = section.build(ctx)
        if result is not None:
            out.append(result)
    return out
