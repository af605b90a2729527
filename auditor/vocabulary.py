"""The words every floor shares, spelled once.

A check (metadata service, credentials, permissions, a capability) is ``ok``, ``fail`` or
``unknown``; a service is ``reachable``, ``blocked`` or ``unknown``; an instance gets one of the
four verdicts of the contract. ``unknown`` means the same everywhere: the model cannot decide.
"""

from __future__ import annotations

OK = "ok"
FAIL = "fail"
UNKNOWN = "unknown"

REACHABLE = "reachable"
BLOCKED = "blocked"

MANAGEABLE = "manageable"
NOT_MANAGEABLE = "not_manageable"
NOT_APPLICABLE = "not_applicable"
VERDICTS = (MANAGEABLE, NOT_MANAGEABLE, UNKNOWN, NOT_APPLICABLE)

# What an instance can do beyond a registered agent (contract section 7): each capability is
# ok, fail, unknown or not_applicable.
SESSION_MANAGER = "session_manager"
PATCHING = "patching"
CAPABILITIES = (SESSION_MANAGER, PATCHING)
