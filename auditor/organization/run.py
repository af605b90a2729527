"""A whole organization on one machine: every unit audited on a bounded pool, each unit's
report handed on as soon as it is done (and then let go), the run's totals kept.

Memory holds the units in flight (at most the pool's size) and the small ``units`` entries,
never the organization's instances: they are written as units finish.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditor.audit import EXIT_ALL_CLEAR, EXIT_NOT_MANAGEABLE, EXIT_UNKNOWN
from auditor.organization.unit import ERROR, audit_unit
from auditor.sources.organization.pool import run_pool
from auditor.vocabulary import MANAGEABLE, NOT_APPLICABLE, NOT_MANAGEABLE

if TYPE_CHECKING:
    from auditor.sources.organization.units import Selection, Unit, UnitSource

DEFAULT_LIVE_CONCURRENCY = 16
DEFAULT_UNIT_TIMEOUT = 900.0  # seconds, as long as a Lambda function may run


@dataclass
class OrganizationRun:
    """What a run found: the ``units`` entries and the verdict counts of all instances."""

    total: int = 0  # units to audit
    units: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, int] = field(default_factory=dict)
    instances: int = 0

    @property
    def failed(self) -> int:
        return sum(1 for entry in self.units if entry["status"] == ERROR)

    def add(self, entry: dict[str, Any]) -> None:
        self.units.append(entry)
        self.instances += entry["instances"]
        for verdict, count in entry["summary"].items():
            self.summary[verdict] = self.summary.get(verdict, 0) + count

    def sorted_units(self) -> list[dict[str, Any]]:
        return sorted(self.units, key=lambda entry: (entry["account_id"], entry["region"]))

    def exit_code(self) -> int:
        """As for one account (0, 1, 3), and never 0 when a unit could not be read."""
        if self.summary.get(NOT_MANAGEABLE):
            return EXIT_NOT_MANAGEABLE
        if self.failed or set(self.summary) - {MANAGEABLE, NOT_APPLICABLE}:
            return EXIT_UNKNOWN
        return EXIT_ALL_CLEAR


def audit_organization(units: list[Unit], source: UnitSource,
                       on_unit: Callable[[dict[str, Any]], None], *,
                       concurrency: int = DEFAULT_LIVE_CONCURRENCY,
                       timeout: float | None = DEFAULT_UNIT_TIMEOUT,
                       on_progress: Callable[[dict[str, Any]], None] | None = None
                       ) -> OrganizationRun:
    """``audit_unit`` of every unit on ``concurrency`` threads; ``on_unit(report)`` in this
    thread as each finishes (write it: it is dropped afterwards), then ``on_progress(entry)``
    with its ``units`` entry."""
    run = OrganizationRun(total=len(units))
    expect = getattr(source, "expect", None)
    if expect is not None:
        expect(units)

    def done(_unit: Unit, document: dict[str, Any]) -> None:
        run.add(document["unit"])
        on_unit(document)
        if on_progress is not None:
            on_progress(document["unit"])
        if not gc.isenabled():
            # The command line runs without the cyclic collector (one audit builds large
            # structures once); a run of many units must still give back what a unit left in
            # cycles, or memory would grow with the organization instead of the largest unit.
            gc.collect()

    run_pool(units, lambda unit: audit_unit(unit, source, timeout=timeout), done, concurrency)
    return run


def run_source(source: UnitSource, selection: Selection, units: list[Unit]) -> dict[str, Any]:
    """The report's ``source`` for a run: where from, the organization, the selection and the
    number of units."""
    described = source.description().to_dict()
    described["organization"] = {**(described.get("organization") or {}),
                                 "selection": selection.to_dict(), "units": len(units)}
    return described
