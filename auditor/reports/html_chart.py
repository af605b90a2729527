"""Static SVG for the HTML report: the chart of instances by finding code.

Drawn by hand, in the page itself (no script needed to see it): one labelled bar per code,
its count written beside it, each bar a link that filters the instance table.
"""

from __future__ import annotations

from auditor.reports.html_markup import MARKS, element, kind, text

ROW = 24
LABEL_WIDTH = 300
BAR_WIDTH = 340
COUNT_WIDTH = 80


def codes_chart(counts: list[tuple[str, str, int]], title: str) -> str:
    """``counts``: (code, severity, instances) by decreasing count; an empty chart says so."""
    if not counts:
        return element("p", "No finding in this report.", class_="empty")
    width = LABEL_WIDTH + BAR_WIDTH + COUNT_WIDTH
    height = ROW * len(counts) + 4
    most = max(count for _, _, count in counts) or 1
    rows = []
    for row, (code, severity, count) in enumerate(counts):
        y = row * ROW + 2
        length = max(2, round(BAR_WIDTH * count / most))
        status = kind(severity)
        label = f"{code}: {count} instance{'s' if count != 1 else ''} ({severity})"
        rows.append(
            f'<a href="#instances" data-code="{text(code)}" aria-label="{text(label)}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end" class="code">'
            f'{text(code)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{length}" height="{ROW - 8}" '
            f'class="bar {status}"/>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{y + 16}">'
            f'{count} <tspan aria-hidden="true">{MARKS[status]}</tspan></text></a>')
    return (f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" '
            f'height="{height}" role="group" aria-label="{text(title)}">'
            f'<title>{text(title)}</title>{"".join(rows)}</svg>')
