"""Server-side SVG charts: a heatmap and an interval (forest) chart.

Every string that enters the SVG goes through ``esc`` (names come from users' banks and targets), so the
result can be inlined in the HTML as is. No script, no external reference: the file opens offline.
"""

from __future__ import annotations

from html import escape

from glasnost.report.fmt import detail, estimate, show_controls
from glasnost.report.names import middle
from glasnost.stats.rates import Estimate


def esc(text: object) -> str:
    return escape(show_controls(str(text)), quote=True)


def _shade(rate: float) -> str:
    """White (0%) to deep red (100%): lightness falls with the rate, so it also reads in grey."""
    light = 97 - 55 * max(0.0, min(1.0, rate))
    return f"hsl(4, 75%, {light:.0f}%)"


def heatmap(rows: list[str], cols: list[str], cells: dict[tuple[str, str], Estimate], *,
            title: str = "", narrow: bool = False) -> str:
    """Rows x columns of rates; each cell shows the rate, and its title the counts and interval.
    ``narrow``: for phones, row labels of at most 20 characters (shortened in the middle)."""
    limit = 20 if narrow else 36
    cell, left, top = 34, min(14 + 7 * limit, 14 + 7 * max((len(r) for r in rows), default=4)), 120
    width = left + cell * len(cols) + 20
    height = top + cell * len(rows) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart heatmap" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           f"<title>{esc(title)}</title>"]
    for j, col in enumerate(cols):
        x = left + j * cell + cell / 2
        out.append(f'<text class="collabel" transform="translate({x:.0f},{top - 6}) rotate(-55)">'
                   f"{esc(middle(col, 22))}</text>")
    for i, row in enumerate(rows):
        y = top + i * cell
        out.append(f'<text class="rowlabel" x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">'
                   f"{esc(middle(row, limit))}</text>")
        for j, col in enumerate(cols):
            x = left + j * cell
            e = cells.get((row, col))
            if e is None or e.value is None:
                out.append(f'<rect class="empty" x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}">'
                           f"<title>{esc(row)} · {esc(col)}: no counted responses</title></rect>")
                continue
            ink = "ink-light" if e.value > 0.6 else "ink-dark"  # a class: page CSS must not repaint it
            out.append(
                f'<g class="cell"><rect x="{x}" y="{y}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="{_shade(e.value)}"><title>{esc(row)} · {esc(col)}: {esc(estimate(e))} '
                f"({esc(detail(e))})</title></rect>"
                f'<text x="{x + (cell - 2) / 2:.0f}" y="{y + cell / 2 + 3:.0f}" text-anchor="middle" '
                f'class="cellvalue {ink}">{round(100 * e.value)}</text></g>'
            )
    out.append("</svg>")
    return "".join(out)


def interval_chart(items: list[tuple[str, Estimate]], *, title: str = "", symmetric: bool = True,
                   groups: list[str] | None = None, freer_below_zero: bool = False, narrow: bool = False) -> str:
    """One row per (label, estimate): a dot with its 95% interval; a zero line for differences.

    ``groups`` (one per item) puts a heading row above each run of items of the same group (a target), so
    the labels need only say the state or language. With ``freer_below_zero`` a significant negative value
    is drawn apart (class ``freer``): answering more freely is not censorship. ``narrow``: for phones, a
    shorter axis and each figure written under its row (about 360 px wide)."""
    if groups is not None:
        rows: list[tuple[str, Estimate | None]] = []
        last = None
        for group, (label, e) in zip(groups, items):
            if group != last:
                rows.append((group, None))
                last = group
            rows.append((label, e))
        return _interval_rows(rows, title, symmetric, freer_below_zero, narrow)
    return _interval_rows(list(items), title, symmetric, freer_below_zero, narrow)


def _interval_rows(items: list[tuple[str, Estimate | None]], title: str, symmetric: bool, freer: bool,
                   narrow: bool = False) -> str:
    row_h, top = (34, 28) if narrow else (22, 28)
    label_limit = 14 if narrow else 44
    left = min(14 + 7 * label_limit, 14 + 7 * max((len(lbl) for lbl, e in items if e is not None), default=4))
    right = 22 if narrow else 16 + 7 * max((len(estimate(e)) for _, e in items if e is not None), default=10)
    plot_w = 250 if narrow else 420
    width = left + plot_w + right
    height = top + row_h * max(1, len(items)) + 30
    lo_axis, hi_axis = (-1.0, 1.0) if symmetric else (0.0, 1.0)

    def xpos(v: float) -> float:
        v = max(lo_axis, min(hi_axis, v))
        return left + (v - lo_axis) / (hi_axis - lo_axis) * plot_w

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart intervals" role="img" '
           f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
           f"<title>{esc(title)}</title>"]
    axis_y = top + row_h * max(1, len(items)) + 4
    ticks = [-1.0, -0.5, 0.0, 0.5, 1.0] if symmetric else [0.0, 0.25, 0.5, 0.75, 1.0]
    for tick in ticks:
        x = xpos(tick)
        label = f"{100 * tick:+.0f}" if symmetric and tick else f"{100 * tick:.0f}"
        out.append(f'<line class="grid" x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{axis_y}"/>'
                   f'<text class="tick" x="{x:.1f}" y="{axis_y + 14}" text-anchor="middle">{label}</text>')
    if symmetric:
        x0 = xpos(0.0)
        out.append(f'<line class="zero" x1="{x0:.1f}" y1="{top - 6}" x2="{x0:.1f}" y2="{axis_y}"/>')
    for i, (label, e) in enumerate(items):
        y = top + i * row_h + row_h / 2
        if e is None:  # a group heading
            out.append(f'<text class="grouplabel" x="4" y="{y + 4:.0f}">{esc(middle(label, 42 if narrow else 60))}'
                       "</text>")
            continue
        out.append(f'<text class="rowlabel" x="{left - 8}" y="{y + 4:.0f}" text-anchor="end">'
                   f"{esc(middle(label, label_limit))}</text>")
        if e.value is None:
            out.append(f'<text class="nodata" x="{left + 4}" y="{y + 4:.0f}">no data</text>')
            continue
        significant = e.p_holm is not None and e.p_holm < 0.05
        cls = ("mark freer" if freer and e.value < 0 else "mark sig") if significant else "mark"
        if e.lo is not None and e.hi is not None:
            out.append(f'<line class="ci" x1="{xpos(e.lo):.1f}" y1="{y:.1f}" x2="{xpos(e.hi):.1f}" y2="{y:.1f}"/>')
        out.append(f'<circle class="{cls}" cx="{xpos(e.value):.1f}" cy="{y:.1f}" r="4.5">'
                   f"<title>{esc(label)}: {esc(estimate(e))} ({esc(detail(e))})</title></circle>")
        at = f'x="8" y="{y + 15:.0f}"' if narrow else f'x="{left + plot_w + 8}" y="{y + 4:.0f}"'
        out.append(f'<text class="valuelabel" {at}>{esc(estimate(e))}</text>')
    out.append("</svg>")
    return "".join(out)

