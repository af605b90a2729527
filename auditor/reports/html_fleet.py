"""The fleet at a glance, for the HTML report: counts by verdict, the chart of instances by
finding code, a table per VPC (and per account and region when instances carry their account),
and the table of every instance, each row a link to the instance's section.

Static markup: the script adds sorting (column headers are buttons) and filters (by verdict,
code, VPC, subnet and Name), reading only what the rows show and their ``data-`` attributes.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from auditor.catalogue import CATALOGUE
from auditor.reports.html_chart import codes_chart
from auditor.reports.html_markup import anchor, badge, generic, kind, text, word
from auditor.vocabulary import VERDICTS

# The verdicts by how much they need a person: a table sorted on them shows the worst first.
RANK = {verdict: rank for rank, verdict in enumerate(
    ("not_manageable", "unknown", "manageable", "not_applicable"))}


class Row:
    """What the fleet tables show of one instance."""

    __slots__ = ("account", "codes", "headline", "instance_id", "name", "region", "subnet",
                 "verdict", "vpc")

    def __init__(self, fields: dict[str, Any], codes: list[str], headline: str) -> None:
        self.instance_id = str(fields.get("instance_id"))
        self.name = fields.get("name") or ""
        self.account = fields.get("account_id") or ""
        self.region = fields.get("region") or ""
        self.vpc = fields.get("vpc_id") or ""
        self.subnet = fields.get("subnet_id") or ""
        self.verdict = str(fields.get("verdict"))
        self.codes = codes
        self.headline = headline


def _counts(rows: list[Row]) -> str:
    counts = Counter(row.verdict for row in rows)
    cards = "".join(
        f'<li><a href="#instances" data-v="{verdict}">{badge(verdict)}'
        f'<span class="count">{counts.get(verdict, 0)}</span></a></li>'
        for verdict in sorted(set(VERDICTS) | set(counts), key=lambda v: RANK.get(v, 9)))
    return f'<ul class="counts" aria-label="instances by verdict">{cards}</ul>'


def _chart(rows: list[Row]) -> str:
    by_code = Counter(code for row in rows for code in row.codes)
    counts = [(code, CATALOGUE[code].severity if code in CATALOGUE else "warning", count)
              for code, count in sorted(by_code.items(), key=lambda item: (-item[1], item[0]))]
    return codes_chart(counts, "Instances by finding code")


def verdict_cell(verdict: str) -> str:
    """A table cell that is its verdict's badge (one element less per row of 10,000)."""
    return f'<td class="b {kind(verdict)}">{text(word(verdict))}</td>'


def _verdict_cells(rows: list[Row], filters: dict[str, str]) -> str:
    counts = Counter(row.verdict for row in rows)
    cells = []
    for verdict in VERDICTS:
        count = counts.get(verdict, 0)
        link = "".join(f' data-{key}="{text(value)}"' for key, value in filters.items())
        cells.append(f'<td data-sort="{count}"><a href="#instances"{link} data-v="{verdict}">'
                     f'{count}</a></td>' if count else '<td data-sort="0">0</td>')
    return "".join(cells)


def _verdict_headers() -> str:
    return "".join(f'<th scope="col" class="num">{badge(verdict)}</th>' for verdict in VERDICTS)


_FILTER_NAMES = {"account": "account", "region": "region", "VPC": "vpc"}


def _group_table(caption: str, columns: list[str], groups: dict[tuple[str, ...], list[Row]],
                 units: dict[tuple[str, ...], dict[str, Any]] | None = None) -> str:
    """One row per group (``columns`` name the parts of its key), its instances by verdict;
    with ``units`` (organization mode), whether each account and region could be read."""
    head = "".join(f'<th scope="col">{text(c)}</th>' for c in columns)
    unit_head = '<th scope="col">read</th>' if units is not None else ""
    body = []
    for key in sorted(set(groups) | set(units or {})):
        members = groups.get(key, [])
        filters = {_FILTER_NAMES[c]: v for c, v in zip(columns, key, strict=True)
                   if c in _FILTER_NAMES and v}
        cells = "".join(f"<td>{text(part) or '<span class=none>none</span>'}</td>"
                        for part in key)
        unit = ""
        if units is not None:
            found = units.get(key) or {}
            read = "ok" if found.get("status") == "ok" else "fail"
            unit = (f"<td>{badge(read, word(found.get('status')))} "
                    f"{text(found.get('error') or '')}</td>" if found else "<td></td>")
        body.append(f"<tr>{cells}<td data-sort=\"{len(members)}\">{len(members)}</td>"
                    f"{_verdict_cells(members, filters)}{unit}</tr>")
    return (f'<table class="sortable groups"><caption>{text(caption)}</caption><thead><tr>'
            f'{head}<th scope="col" class="num">instances</th>{_verdict_headers()}{unit_head}'
            f'</tr></thead><tbody>{"".join(body)}</tbody></table>')


def _options(values: list[str], labels: dict[str, str] | None = None) -> str:
    return "".join(f'<option value="{text(v)}">{text((labels or {}).get(v, v))}</option>'
                   for v in values)


def _filters_form(rows: list[Row], accounts: bool, regions: bool) -> str:
    verdicts = Counter(row.verdict for row in rows)
    codes = Counter(code for row in rows for code in row.codes)
    vpcs = sorted({row.vpc for row in rows if row.vpc})
    subnets = sorted({row.subnet for row in rows if row.subnet})
    verdict_labels = {v: f"{word(v)} ({n})" for v, n in verdicts.items()}
    code_labels = {c: f"{c} ({n})" for c, n in codes.items()}
    return (
        '<form class="filters" id="filters" role="search" aria-label="filter instances">'
        '<label>verdict <select name="v"><option value="">any</option>'
        f'{_options(sorted(verdicts, key=lambda v: RANK.get(v, 9)), verdict_labels)}'
        '</select></label>'
        '<label>finding code <select name="code"><option value="">any</option>'
        f'{_options(sorted(codes), code_labels)}</select></label>'
        '<label>VPC <input name="vpc" type="search" list="vpcs" autocomplete="off"></label>'
        '<label>subnet <input name="subnet" type="search" list="subnets" autocomplete="off">'
        '</label><label>Name <input name="name" type="search" autocomplete="off"></label>'
        + ('<label>region <input name="region" type="search" autocomplete="off"></label>'
           if regions else "")
        + ('<label>account <input name="account" type="search" autocomplete="off"></label>'
           if accounts else "")
        + '<button type="reset">clear</button> <output name="shown" aria-live="polite"></output>'
        '<button type="button" id="show-sections">show their sections</button>'
        f'<datalist id="vpcs">{_options(vpcs)}</datalist>'
        f'<datalist id="subnets">{_options(subnets)}</datalist></form>')


def _instance_rows(rows: list[Row], accounts: bool, regions: bool) -> str:
    out = []
    for row in rows:
        codes = f' data-c="{text(" ".join(row.codes))}"' if row.codes else ""
        place = (f"<td>{text(row.account)}</td>" if accounts else "") + (
            f"<td>{text(row.region)}</td>" if regions else "")
        out.append(
            f'<tr data-v="{text(row.verdict)}"{codes}>{verdict_cell(row.verdict)}'
            f'<td><a href="#{anchor(row.instance_id)}">{text(row.instance_id)}</a></td>'
            f"<td>{text(row.name)}</td>{place}<td>{text(row.vpc)}</td>"
            f"<td>{text(row.subnet)}</td><td>{text(row.headline)}</td></tr>")
    return "".join(out)


def _instances_table(rows: list[Row], accounts: bool, regions: bool) -> str:
    columns = [("verdict", "verdict"), ("instance", "instance"), ("name", "Name"),
               *([("account", "account")] if accounts else []),
               *([("region", "region")] if regions else []),
               ("vpc", "VPC"), ("subnet", "subnet"), ("codes", "findings")]
    head = "".join(f'<th scope="col" data-col="{key}">{title}</th>' for key, title in columns)
    return (f'<table class="sortable instances" id="instance-table"><caption>'
            f'{len(rows):,} instance(s)</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{_instance_rows(rows, accounts, regions)}</tbody></table>')


def _units(units: Any) -> dict[tuple[str, ...], dict[str, Any]] | None:
    if not isinstance(units, list):
        return None
    return {(str(u.get("account_id") or ""), str(u.get("region") or "")): u
            for u in units if isinstance(u, dict)}


def fleet(rows: list[Row], units: Any = None) -> str:
    """The fleet's sections: at a glance (counts, chart, groups), then every instance."""
    accounts = any(row.account for row in rows)
    unit_table = _units(units)
    by_vpc: dict[tuple[str, ...], list[Row]] = {}
    by_unit: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        key = (row.account, row.region, row.vpc) if accounts else (row.region, row.vpc)
        by_vpc.setdefault(key, []).append(row)
        by_unit.setdefault((row.account, row.region), []).append(row)
    vpc_columns = ["account", "region", "VPC"] if accounts else ["region", "VPC"]
    parts = ['<section id="glance" aria-labelledby="glance-h"><h2 id="glance-h">'
             'The fleet at a glance</h2>', _counts(rows),
             '<h3>Instances by finding code</h3>', _chart(rows)]
    if accounts or unit_table is not None:
        parts.append(_group_table("By account and region", ["account", "region"], by_unit,
                                  unit_table))
    parts.append(_group_table("By VPC", vpc_columns, by_vpc))
    if units is not None and unit_table is None:  # units of a shape this version does not know
        parts.append(generic(units))
    parts.append("</section>")
    regions = accounts or len({row.region for row in rows}) > 1
    parts.append('<section id="instances" aria-labelledby="instances-h"><h2 id="instances-h">'
                 f'Instances</h2>{_filters_form(rows, accounts, regions)}'
                 f'{_instances_table(rows, accounts, regions)}</section>')
    return "".join(parts)
