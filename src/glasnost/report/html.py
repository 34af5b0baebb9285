"""The self-contained HTML report: one file, styles, script, data and SVG charts inline, no network."""

from __future__ import annotations

import base64
import hashlib
import secrets
from functools import lru_cache
from importlib import resources
from typing import Iterator

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from glasnost import __version__
from glasnost.report.fmt import show_controls
from glasnost.report.model import ReportContext, SectionOut
from glasnost.report.viewdata import embed_json_parts, view_data


def _templates_dir() -> str:
    return str(resources.files("glasnost.report") / "templates")


@lru_cache(maxsize=1)
def _env() -> Environment:
    # Autoescape everything: every value that reaches the template is treated as untrusted text.
    return Environment(loader=FileSystemLoader(_templates_dir()), autoescape=select_autoescape(default=True),
                       undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)


def _asset(name: str) -> str:
    return (resources.files("glasnost.report") / "templates" / name).read_text(encoding="utf-8")


def report_title(ctx: ReportContext) -> str:
    banks = sorted({f"{m.bank.name} {m.bank.version}" for m in ctx.data.runs})
    from glasnost.report.names import short_names

    names = short_names(ctx.data)
    targets = [names[t] for t in ctx.data.targets]
    who = ", ".join(targets[:4]) + (f" and {len(targets) - 4} more" if len(targets) > 4 else "")
    return show_controls(f"{who or 'no targets'} on {' + '.join(banks)}")


SCRIPTS = ("report_util.js", "report_review.js", "report_view.js")  # one scope, in this order


def script() -> str:
    """The report's one inline script: its parts share a function scope (and the CSP hash)."""
    return "(function () {\n\"use strict\";\n" + "\n".join(_asset(n) for n in SCRIPTS) + "\n})();"


def render_html(ctx: ReportContext, sections: list[SectionOut]) -> str:
    return "".join(render_html_parts(ctx, sections))


def render_html_parts(ctx: ReportContext, sections: list[SectionOut]) -> Iterator[str]:
    """The page in the pieces the template yields (``render_html`` joins them): a report is written piece by
    piece, so the whole page is never held as one string beside its encoded bytes (issue 17, peak memory)."""
    from glasnost.bundle.browser import VERIFY_SECTION, csp_script_source
    from glasnost.bundle.browser import script_tag as verify_script_tag

    js = script()
    css = _asset("report.css")
    for asset in (js, css):  # our own files; a stray closing tag would end the block early
        if "</script" in asset.lower() or "</style" in asset.lower() or "<!--" in asset:
            raise RuntimeError("report asset contains a closing tag")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode("ascii")
    data = view_data(ctx.data, ctx.analysis, ctx.store) if any(s.view for s in sections) else {}
    # The data block is written in pieces where the template puts this marker (a fresh nonce: no model output
    # can contain it), so the answers' JSON is never one string of megabytes.
    marker = f"\x00glasnost-data-{secrets.token_hex(16)}\x00"
    page = _env().get_template("report.html.j2").generate(
        title=report_title(ctx),
        version=__version__,
        generated_at=ctx.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        run_ids=[m.run_id for m in ctx.data.runs],
        responses=len(ctx.data),
        judge=ctx.analysis.judge,
        sections=sections,
        css=css,
        js=js,
        script_hash=script_hash,
        # the bundle verifier (glasnost.bundle.browser): a reader checks a published bundle in this page, offline
        verify_section=VERIFY_SECTION,
        verify_script=verify_script_tag(),
        verify_csp=csp_script_source(),
        data_json=marker,
    )
    return _splice(page, marker, embed_json_parts(data))


def _splice(parts: Iterator[str], marker: str, inner: Iterator[str]) -> Iterator[str]:
    """``parts`` with the one occurrence of ``marker`` replaced by the pieces of ``inner``."""
    found = False
    for part in parts:
        if not found and marker in part:
            before, after = part.split(marker, 1)
            found = True
            yield before
            yield from inner
            part = after
        if marker in part:
            raise RuntimeError("the report template placed its data block twice")
        yield part
    if not found:
        raise RuntimeError("the report template has no data block")
