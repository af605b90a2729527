"""Raw API answers for one region, as captured live or read from a snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawRegion:
    """The answers of the calls in ``api_calls`` for one region.

    ``answers`` maps a kind to the operation's answer in the AWS CLI's JSON shape (for a
    per-resource call, a list of such answers). ``errors`` maps a kind to why it could not be
    read; a kind in neither was not needed.
    """

    region: str
    account_id: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    # Planned resources (templates) whose configuration could not be resolved: id -> reason
    # ("*" for a change whose target is unknown), and the ids of planned instances.
    unresolved: dict[str, str] = field(default_factory=dict)
    planned: list[str] = field(default_factory=list)
