"""Report renderers: one module per format, ``auditor/reports/<format>_report.py``.

Each holds ``render(report: AuditReport, options: RenderOptions | None = None) -> str`` and
serves every command that produces an audit report (the audit, ``prelaunch``). A new format
joins by adding its module: ``formats()`` finds it by its name, ``--format`` offers it.
Nothing is decided here: reports render what the audit found.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from auditor.modules import module_names
from auditor.reports.locations import Locator

if TYPE_CHECKING:
    from auditor.audit import AuditReport

_SUFFIX = "_report"
_FIRST = ("text", "json")  # the two every command offered first, in --help's order


@dataclass(frozen=True)
class RenderOptions:
    colour: bool = False  # text: ANSI colours
    verbose: bool = False  # text: every hop, also of healthy instances
    locate: Locator | None = None  # where each resource is written (templates)
    indent: bool | None = None  # JSON: None indents small reports only


def formats() -> tuple[str, ...]:
    """Every report format, by its module's name (text and json first)."""
    found = sorted(name[: -len(_SUFFIX)] for name in module_names(__path__)
                   if name.endswith(_SUFFIX))
    return tuple(name for name in _FIRST if name in found) + tuple(
        name for name in found if name not in _FIRST)


def render(report: AuditReport, format_name: str, options: RenderOptions | None = None) -> str:
    module = importlib.import_module(f"{__name__}.{format_name}{_SUFFIX}")
    return module.render(report, options or RenderOptions())


def unit_writer(format_name: str, out: IO[str], options: RenderOptions | None = None) -> Any:
    """The format's ``UnitWriter`` (organization mode: ``begin(source)``, ``unit(report)`` as
    each unit finishes, ``end(units, summary)``), writing to ``out``."""
    from auditor.errors import UsageError

    writer = getattr(importlib.import_module(f"{__name__}.{format_name}{_SUFFIX}"),
                     "UnitWriter", None)
    if writer is None:
        offered = [name for name in formats() if hasattr(
            importlib.import_module(f"{__name__}.{name}{_SUFFIX}"), "UnitWriter")]
        raise UsageError(f"--format {format_name} is not offered for an organization: "
                         f"use {', '.join(offered)}")
    return writer(out, options or RenderOptions())
