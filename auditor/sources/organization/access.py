"""How the auditor reaches each account of an organization: the caller's own account with the
caller's credentials, every other one through its read-only role (STS AssumeRole, once per
account and run, the session named ``ssm-auditor``; assumed again when it nears its end).

    with access.account("111122223333", deadline) as clients:
        ec2 = clients("ec2", "eu-west-1")      # signs with that account's credentials

Clients are made once per service and region and shared by every account and thread: making a
botocore client costs tens of milliseconds of CPU (an EC2 client builds some 600 methods), which
for thousands of units would cost more than reading them. Their credentials are those the
current thread is reading for: ``account`` binds an account's credentials (and its unit's
deadline) to the thread while the block runs; outside such a block the shared clients have no
credentials at all, so nothing can be read for the wrong account by mistake. Every client is
``live.client``'s (the SDK's retries as configured, connect and read timeouts, the run's
``--deadline``); in the adaptive retry mode (``AWS_RETRY_MODE=adaptive``) its client-side rate
limiter is therefore shared per service and region: throttling in one account slows every
account's calls there (the cautious side).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from auditor.aws_facts import (
    ASSUME_ROLE_SESSION_NAME,
    ORGANIZATION_ROLE_NAME,
    member_role_arn,
    partition,
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
        self._bound = _Binding()
        self._shared: Any = None  # the session of the shared clients, made on first use
        self._clients: dict[tuple[str, str], BaseClient] = {}
        self._caller_clients: dict[str, BaseClient] = {}

    def caller_account_id(self) -> str:
        """The caller's account (STS GetCallerIdentity, once)."""
        if self._caller is None:
            identity = self._caller_client("sts").get_caller_identity()
            self._caller = str(identity["Account"])
        return self._caller

    @contextmanager
    def account(self, account_id: str, deadline: float | None = None) -> Iterator[Clients]:
        """The clients of ``account_id`` for this thread while the block runs (its role
        assumed, or the caller's own credentials); ``deadline`` (``time.monotonic()``) bounds
        every request. Raises ``UnitFailure`` when the role cannot be assumed."""
        credentials = self._account_credentials(account_id)
        previous = self._bound.get()
        self._bound.set((credentials, deadline))
        try:
            yield self._client
        finally:
            self._bound.set(previous)

    # --- Clients -----------------------------------------------------------------------------

    def _client(self, service: str, region: str) -> BaseClient:
        key = (service, region)
        made = self._clients.get(key)
        if made is None:
            with self._lock:  # a boto3 session must not make clients on two threads at once
                made = self._clients.get(key)
                if made is None:
                    made = live.client(self._shared_session(), service, region)
                    made.meta.events.register_first("before-send", self._bound.check_deadline)
                    self._clients[key] = made
        return made

    def _shared_session(self) -> Any:
        """A session whose credentials are, on each thread, those ``account`` bound."""
        if self._shared is None:
            import boto3
            import botocore.session
            from botocore.credentials import CredentialProvider

            credentials = _bound_credentials(self._bound)

            class BoundProvider(CredentialProvider):
                METHOD = "ssm-auditor-account"
                CANONICAL_NAME = "custom-ssm-auditor-account"

                def load(self) -> Any:
                    return credentials

            core = botocore.session.Session(profile=self.profile)
            core.get_component("credential_provider").insert_before("env", BoundProvider())
            self._shared = boto3.Session(botocore_session=core, region_name=self.region)
        return self._shared

    def _caller_client(self, service: str) -> BaseClient:
        """STS with the caller's own credentials (GetCallerIdentity, AssumeRole)."""
        with self._lock:
            if service not in self._caller_clients:
                self._caller_clients[service] = live.client(self.session, service, self.region)
            return self._caller_clients[service]

    # --- Credentials -------------------------------------------------------------------------

    def _account_credentials(self, account_id: str) -> Any:
        if account_id == self.caller_account_id():
            return self.session.get_credentials()
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
            return held["credentials"]

    def _assume(self, account_id: str) -> dict[str, Any]:
        from botocore.credentials import Credentials

        arn = member_role_arn(account_id, self.role_name, partition(self.region))
        request: dict[str, Any] = {"RoleArn": arn, "RoleSessionName": ASSUME_ROLE_SESSION_NAME}
        if self.external_id:
            request["ExternalId"] = self.external_id
        try:
            answer = self._caller_client("sts").assume_role(**request)
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
        return {"credentials": Credentials(keys["AccessKeyId"], keys["SecretAccessKey"],
                                           keys["SessionToken"], method="assume-role"),
                "ends": ends.timestamp() if hasattr(ends, "timestamp") else time.time() + 3600}


class _Binding:
    """What ``account`` bound to each thread: the account's credentials and the unit's
    deadline."""

    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> tuple[Any, float | None] | None:
        return getattr(self._local, "bound", None)

    def set(self, bound: tuple[Any, float | None] | None) -> None:
        self._local.bound = bound

    def frozen(self) -> Any:
        """The bound account's credentials, frozen; none bound: NoCredentialsError (a request
        fails rather than read with another account's)."""
        bound = self.get()
        if bound is None:
            from botocore.exceptions import NoCredentialsError

            raise NoCredentialsError()
        return bound[0].get_frozen_credentials()

    def check_deadline(self, **_kwargs: Any) -> None:
        bound = self.get()
        if bound is not None and bound[1] is not None and time.monotonic() > bound[1]:
            raise UnitTimeout("timed out: the unit outlived its time (--unit-timeout)")


def _bound_credentials(binding: _Binding) -> Any:
    """botocore credentials that are, on each thread, those ``binding`` holds there (a
    subclass of botocore's, for whatever else botocore asks of credentials)."""
    from botocore.credentials import Credentials

    class BoundCredentials(Credentials):
        def __init__(self) -> None:  # nothing of its own: everything comes from the binding
            pass

        method = "ssm-auditor-account"
        access_key = property(lambda self: binding.frozen().access_key)
        secret_key = property(lambda self: binding.frozen().secret_key)
        token = property(lambda self: binding.frozen().token)
        account_id = property(lambda self: getattr(binding.frozen(), "account_id", None))

        def get_frozen_credentials(self) -> Any:
            return binding.frozen()

    return BoundCredentials()
