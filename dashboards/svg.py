"""Small static SVG charts for the annual report's PDF (the pages draw theirs with ECharts).

Pure functions from labels and numbers to an SVG string; every text is escaped. WeasyPrint renders
them as vector graphics with the same CJK font as the report's text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from xml.sax.saxutils import escape

COLOUR_HEX = {"green": "#2e7d32", "blue": "#1565c0", "yellow": "#f9a825", "red": "#c62828"}
SERIES_HEX = ("#b3261e", "#1565c0", "#2e7d32", "#f9a825", "#6a1b9a", "#00838f", "#5d4037", "#455a64")
FONT = "Noto Sans CJK SC, sans-serif"

Number = int | float | Decimal | str | None


def _num(value: Number) -> float | None:
    if value is None or value == "":
        return None
    return float(value)


def _text(x: float, y: float, text: str, *, size: int = 11, anchor: str = "middle", fill: str = "#333",
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" '
            f'font-weight="{weight}" font-family="{FONT}">{escape(str(text))}</text>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _frame(width: int, height: int, title: str, body: list[str]) -> str:
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
            f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    if title:
        head.append(_text(width / 2, 18, title, size=13, weight="bold"))
    return "".join([*head, *body, "</svg>"])


def bar_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number], str]], *, title: str = "",
              width: int = 640, height: int = 260, unit: str = "", top: float | None = None) -> str:
    """Vertical bars: one group per label, one bar per series (name, values, colour)."""
    left, right, upper, lower = 44, 12, 34 if title else 12, 42 if len(series) > 1 else 28
    plot_w, plot_h = width - left - right, height - upper - lower
    values = [v for _, vals, _ in series for v in map(_num, vals) if v is not None]
    ymax = top if top is not None else _nice_max(max(values, default=0.0))
    body = []
    for tick in range(5):
        value = ymax * tick / 4
        y = upper + plot_h - plot_h * tick / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        body.append(_text(left - 4, y + 4, f"{value:g}", size=9, anchor="end", fill="#666"))
    groups = max(len(labels), 1)
    group_w = plot_w / groups
    bar_w = group_w * 0.7 / max(len(series), 1)
    for g, label in enumerate(labels):
        x0 = left + g * group_w + group_w * 0.15
        for s, (_name, vals, colour) in enumerate(series):
            value = _num(vals[g]) if g < len(vals) else None
            if value is None:
                continue
            h = plot_h * min(value, ymax) / ymax if ymax else 0
            x = x0 + s * bar_w
            y = upper + plot_h - h
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.92:.1f}" height="{h:.1f}" fill="{colour}"/>')
            if len(series) == 1 and groups <= 14:
                body.append(_text(x + bar_w * 0.46, y - 3, f"{value:g}{unit}", size=9))
        body.append(_text(left + g * group_w + group_w / 2, upper + plot_h + 14, label, size=9))
    body.append(f'<line x1="{left}" y1="{upper + plot_h}" x2="{width - right}" y2="{upper + plot_h}" stroke="#999"/>')
    if len(series) > 1:
        body.extend(_legend([(n, c) for n, _, c in series], width, height - 8))
    return _frame(width, height, title, body)


def _legend(items: Sequence[tuple[str, str]], width: int, y: float) -> list[str]:
    out = []
    step = min(120, width / max(len(items), 1))
    x = (width - step * len(items)) / 2
    for name, colour in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        out.append(_text(x + 14, y, name, size=10, anchor="start"))
        x += step
    return out


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[Number], str]], *, title: str = "",
               width: int = 640, height: int = 260, low: float | None = None, high: float | None = None) -> str:
    """Lines over the labels (e.g. months); gaps where a value is missing."""
    left, right, upper, lower = 44, 12, 34 if title else 12, 42
    plot_w, plot_h = width - left - right, height - upper - lower
    values = [v for _, vals, _ in series for v in map(_num, vals) if v is not None]
    lo = low if low is not None else (min(values, default=0.0) // 10 * 10)
    hi = high if high is not None else max(_nice_max(max(values, default=1.0)), lo + 1)
    span = (hi - lo) or 1.0
    body = []
    for tick in range(5):
        value = lo + span * tick / 4
        y = upper + plot_h - plot_h * tick / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e0e0e0"/>')
        body.append(_text(left - 4, y + 4, f"{value:g}", size=9, anchor="end", fill="#666"))
    n = max(len(labels), 1)
    step = plot_w / n

    def point(i: int, v: float) -> tuple[float, float]:
        return left + step * (i + 0.5), upper + plot_h - plot_h * (min(max(v, lo), hi) - lo) / span

    for i, label in enumerate(labels):
        body.append(_text(left + step * (i + 0.5), upper + plot_h + 14, label, size=9))
    for _name, vals, colour in series:
        run: list[str] = []
        for i, raw in enumerate(vals):
            v = _num(raw)
            if v is None:
                if len(run) > 1:
                    body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
                run = []
                continue
            x, y = point(i, v)
            run.append(f"{x:.1f},{y:.1f}")
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>')
        if len(run) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(run)}"/>')
    body.extend(_legend([(n, c) for n, _, c in series], width, height - 8))
    return _frame(width, height, title, body)


def donut(parts: Sequence[tuple[str, Number, str]], *, title: str = "", width: int = 320, height: int = 240) -> str:
    """A ring of shares (label, value, colour) with a legend of counts."""
    cx, cy, r, inner = width * 0.36, height / 2 + 8, min(width, height) * 0.34, min(width, height) * 0.19
    total = sum(_num(v) or 0.0 for _, v, _ in parts)
    body, angle = [], -math.pi / 2
    for _label, raw, colour in parts:
        value = _num(raw) or 0.0
        if total <= 0 or value <= 0:
            continue
        sweep = 2 * math.pi * value / total
        if sweep >= 2 * math.pi - 1e-9:
            body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r:.1f}" fill="{colour}"/>')
        else:
            end = angle + sweep
            large = 1 if sweep > math.pi else 0
            x1, y1 = cx + r * math.cos(angle), cy + r * math.sin(angle)
            x2, y2 = cx + r * math.cos(end), cy + r * math.sin(end)
            body.append(f'<path d="M{cx:.1f},{cy:.1f} L{x1:.1f},{y1:.1f} A{r:.1f},{r:.1f} 0 {large} 1 '
                        f'{x2:.1f},{y2:.1f} Z" fill="{colour}"/>')
        angle += sweep
    body.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{inner:.1f}" fill="#ffffff"/>')
    body.append(_text(cx, cy + 5, f"{int(total)}", size=14, weight="bold"))
    y = cy - 12 * len(parts) + 6
    for label, raw, colour in parts:
        body.append(f'<rect x="{width * 0.72:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(width * 0.72 + 14, y, f"{label} {raw if raw is not None else 0}", size=11, anchor="start"))
        y += 24
    return _frame(width, height, title, body)
