"""The report's "source": which fields each kind of estate says, in a stable order."""

from __future__ import annotations

from auditor.sources.description import SourceDescription
from auditor.sources.parse import build_estate
from builders.estate_builder import EstateBuilder


def test_a_live_source_always_names_its_profile_even_the_default():
    assert SourceDescription("aws").to_dict() == {"kind": "aws", "profile": None}
    assert list(SourceDescription("aws", profile="p").describe([]).to_dict()) == [
        "kind", "profile", "regions", "account_id", "unavailable"]


def test_a_template_source_nests_its_base_and_says_no_gaps():
    base = SourceDescription("snapshot", path="demo/estate")
    source = SourceDescription("template", path="t.yaml", templates=["t.yaml"], base=base)
    source.regions, source.account_id = ["eu-west-1"], ""
    assert source.to_dict() == {"kind": "template", "path": "t.yaml", "templates": ["t.yaml"],
                                "base": {"kind": "snapshot", "path": "demo/estate"},
                                "regions": ["eu-west-1"], "account_id": ""}


def test_describe_takes_regions_account_and_what_could_not_be_read():
    raw = EstateBuilder(region="eu-west-1", account_id="111122223333").raw()
    raw.errors["nat_gateways"] = "AccessDenied"
    estate = build_estate(raw)
    described = SourceDescription("snapshot", path="x").describe([estate]).to_dict()
    assert described["regions"] == ["eu-west-1"]
    assert described["account_id"] == "111122223333"
    assert described["unavailable"] == {"eu-west-1": estate.unavailable}
    assert estate.unavailable
