"""How the auditor reaches each account of an organization: the caller's own account with the
caller's credentials, every other one through its read-only role (STS AssumeRole, once per
account and run, the session named ``ssm-auditor``; renewed when it nears its end).

Clients are made under a lock (a boto3 session is not safe to share between threads; its
clients are). A ``deadline`` makes every request of a unit's clients check the clock first, so
that a unit that outlives its time fails with a reason instead of holding the run.
"""

from __future__ import annotations

import os
import threading
import time
from typing import TYPE_CHECKING, Any

from auditor.aws_facts import (
    ASSUME_ROLE_SESSION_NAME,
    ORGANIZATION_ROLE_NAME,
    member_role_arn,
    partition_of,
)
from auditor.sources import live
from auditor.sources.organization.units import UnitFailure

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from auditor.sources.live import Clients

RENEW_BEFORE = 300  # seconds: assume the role again when its credentials end sooner


class UnitTimeout(UnitFailure):
    """The unit outlived its time."""


class OrganizationAccess:
    """The caller's session and the roles it assumes. ``region``: where the global services
    (STS, Organizations, IAM) are asked, default the session's."""

    def __init__(self, profile: str | None = None, role_name: str = ORGANIZATION_ROLE_NAME,
                 external_id: str | None = None, region: str | None = None) -> None:
        self.profile = profile
        self.role_name = role_name
        self.external_id = external_id
        self.session = live.open_session(profile)
        self.region = region or os.environ.get("AWS_REGION") or self.session.region_name \
            or "us-east-1"
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = {}
        self._credentials: dict[str, dict[str, Any]] = {}
        self._caller: str | None = None

    def caller_account_id(self) -> str:
        """The caller's account (STS GetCallerIdentity, once)."""
        if self._caller is None:
            identity = self._client("sts", self.region).get_caller_identity()
            self._caller = str(identity["Account"])
        return self._caller

    def clients(self, account_id: str, deadline: float | None = None) -> Clients:
        """The clients of ``account_id`` (its role assumed, or the caller's own credentials);
        ``deadline`` (``time.monotonic()``) bounds every request. Raises ``UnitFailure`` when
        the role cannot be assumed."""
        credentials = self._account_credentials(account_id)

        def make(service: str, region: str) -> BaseClient:
            made = self._client(service, region, **credentials)
            if deadline is not None:
                made.meta.events.register_first("before-send", _check_deadline(deadline))
            return made

        return make

    def _client(self, service: str, region: str, **credentials: str) -> BaseClient:
        with self._lock:
            return live.client(self.session, service, region, **credentials)

    def _account_credentials(self, account_id: str) -> dict[str, str]:
        if account_id == self.caller_account_id():
            return {}
        with self._lock:
            lock = self._account_locks.setdefault(account_id, threading.Lock())
        with lock:  # one AssumeRole per account, however many of its units start at once
            held = self._credentials.get(account_id)
            if held is None or held["ends"] - time.time() < RENEW_BEFORE:
                try:
                    held = self._assume(account_id)
                except UnitFailure as failure:  # its other units fail alike, without asking
                    held = {"failure": str(failure), "ends": float("inf")}
                self._credentials[account_id] = held
            if "failure" in held:
                raise UnitFailure(held["failure"])
            return held["keys"]

    def _assume(self, account_id: str) -> dict[str, Any]:
        arn = member_role_arn(account_id, self.role_name, partition_of(self.region))
        request: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": ASSUME_ROLE_SESSION_NAME}
        if self.external_id:
            request["ExternalId"] = self.external_id
        try:
            answer = self._client("sts", self.region).assume_role(**request)
        except Exception as error:
            reason = live.refusal(error)
            if reason is None:
                reason = live.one_line(f"{type(error).__name__}: {error}")
            raise UnitFailure(f"cannot assume {arn}: {reason} (is the role deployed in the "
                              "account and does it trust the caller"
                              f"{' with this external id' if self.external_id else ''}?)"
                              ) from None
        keys = answer["Credentials"]
        ends = keys.get("Expiration")
        return {"keys": {"aws_access_key_id": keys["AccessKeyId"],
                         "aws_secret_access_key": keys["SecretAccessKey"],
                         "aws_session_token": keys["SessionToken"]},
                "ends": ends.timestamp() if hasattr(ends, "timestamp") else time.time() + 3600}


def _check_deadline(deadline: float) -> Any:
    def check(**_kwargs: Any) -> None:
        if time.monotonic() > deadline:
            raise UnitTimeout("timed out: the unit outlived its time (--unit-timeout)")
    return check
