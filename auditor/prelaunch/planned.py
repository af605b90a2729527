"""A planned instance without a template: its subnet, groups and profile, over the estate."""

from __future__ import annotations

from auditor.sources.raw import RawRegion
from auditor.sources.template import compute
from auditor.sources.template.context import Translation
from auditor.sources.template.overlay import PLACEHOLDER_ACCOUNT, OverlayResult

PLANNED_ID = "planned-instance"


def plan_instance(base: RawRegion, subnet_id: str, group_ids: list[str],
                  instance_profile: str | None, public_ip: bool, http_tokens: str,
                  platform: str) -> OverlayResult:
    translation = Translation(base, base.region, base.account_id or PLACEHOLDER_ACCOUNT)
    launch = compute.Launch(subnet_id=subnet_id, group_ids=group_ids or None,
                            profile=instance_profile, public_ip=public_ip,
                            metadata={"HttpTokens": http_tokens})
    compute.emit_instance(translation, PLANNED_ID, launch, "", platform=platform)
    return OverlayResult(translation.raw(base), {}, dict(translation.unresolved), {},
                         list(translation.planned))
