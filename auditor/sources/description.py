"""Where an audited estate came from: the report's ``source``, as a small dataclass.

``kind``: ``aws`` (live, with the profile or None for the SDK's default), ``snapshot`` (its
directory), ``template`` (templates laid over a ``base``), ``planned`` (a planned launch over a
``base``) or ``none`` (no estate under a template). After the estate is read, ``regions``,
``account_id`` and, for live and snapshot estates, what could not be read (``unavailable``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from auditor.model import Estate


@dataclass
class SourceDescription:
    kind: str
    path: str | None = None  # a snapshot directory, or the templates as given
    profile: str | None = None  # aws: the profile, None for the SDK's default
    templates: list[str] | None = None  # template: every template read
    base: SourceDescription | None = None  # template, planned: the estate laid under
    regions: list[str] | None = None
    account_id: str | None = None
    unavailable: dict[str, dict[str, str]] | None = None
    after_plan: dict[str, Any] | None = None  # --verify-plan: what the proof assumed done
    organization: dict[str, Any] | None = None  # --org: the organization and the selection

    def describe(self, estates: Iterable[Estate], *, unavailable: bool = True
                 ) -> SourceDescription:
        """A copy of this description with what the estates read say: regions, account,
        gaps."""
        estates = list(estates)
        return replace(self, regions=[estate.region for estate in estates],
                       account_id=next((e.account_id for e in estates if e.account_id), ""),
                       unavailable={e.region: e.unavailable for e in estates if e.unavailable}
                       if unavailable else self.unavailable)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report's ``source``: the fields that apply, in a stable order."""
        data: dict[str, Any] = {"kind": self.kind}
        if self.path is not None:
            data["path"] = self.path
        if self.kind == "aws":
            data["profile"] = self.profile
        if self.templates is not None:
            data["templates"] = self.templates
        if self.base is not None:
            data["base"] = self.base.to_dict()
        for name in ("regions", "account_id", "unavailable", "after_plan", "organization"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data
