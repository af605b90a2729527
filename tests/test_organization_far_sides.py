"""An organization unit whose paths cross into another account (a spoke behind a transit gateway
shared by a network account) is proved with that account's answers of the region, read beside
it; when they cannot be read the far side stays DATA_UNAVAILABLE naming the account."""

from __future__ import annotations

from auditor.analysis.results import REACHABLE, UNKNOWN
from auditor.organization.unit import audit_unit
from auditor.sources.description import SourceDescription
from auditor.sources.organization.units import Unit, UnitFailure
from auditor.sources.raw import RawRegion
from auditor.vocabulary import MANAGEABLE
from tests.test_beyond import HUB_ACCOUNT, _spoke_account_view

SPOKE_ACCOUNT = "111122223333"


class FakeUnits:
    """Units served from builders; ``refused``: accounts whose role cannot be assumed."""

    def __init__(self, raws: dict[str, RawRegion], refused: frozenset[str] = frozenset()):
        self.raws = raws
        self.refused = refused
        self.network_reads: list[str] = []

    def description(self) -> SourceDescription:
        return SourceDescription("snapshot")

    def read(self, unit: Unit, deadline=None, progress=None) -> RawRegion:
        return self.raws[unit.account_id]

    def read_network(self, unit: Unit, deadline=None) -> RawRegion:
        self.network_reads.append(unit.key)
        if unit.account_id in self.refused:
            raise UnitFailure(f"cannot assume the role of {unit.account_id}")
        return self.raws[unit.account_id]


def _units(refused: frozenset[str] = frozenset()) -> tuple[FakeUnits, str, str]:
    spoke, hub, instance, _, _ = _spoke_account_view()
    spoke_raw, hub_raw = spoke.raw(), hub.raw()
    spoke_raw.account_id, hub_raw.account_id = SPOKE_ACCOUNT, HUB_ACCOUNT
    return FakeUnits({SPOKE_ACCOUNT: spoke_raw, HUB_ACCOUNT: hub_raw}, refused), \
        instance, spoke_raw.region


def test_a_spoke_unit_is_proved_with_the_network_accounts_answers():
    source, instance, region = _units()

    report = audit_unit(Unit(SPOKE_ACCOUNT, region), source)

    [audited] = report["instances"]
    assert audited["instance_id"] == instance
    # The builder gives the instance no role: the network is what is proved here.
    for name, service in audited["services"].items():
        assert (service["status"], service["via"]) == (REACHABLE, "transit_gateway"), name
    assert "DATA_UNAVAILABLE" not in {f["code"] for f in audited["findings"]}
    assert source.network_reads == [f"{HUB_ACCOUNT}/{region}"]
    # Only the unit's own instances are reported, none of the network account's.
    assert report["unit"]["instances"] == 1


def test_a_far_side_that_cannot_be_read_stays_unavailable_naming_its_account():
    source, _, region = _units(refused=frozenset({HUB_ACCOUNT}))

    report = audit_unit(Unit(SPOKE_ACCOUNT, region), source)

    [audited] = report["instances"]
    assert audited["verdict"] != MANAGEABLE
    assert {service["status"] for service in audited["services"].values()} == {UNKNOWN}
    unavailable = [f for f in audited["findings"] if f["code"] == "DATA_UNAVAILABLE"]
    assert unavailable and all(HUB_ACCOUNT in f["message"] for f in unavailable)
