"""An organization read live: its own answers once, its units, and each unit's raw answers.

``read_organization`` runs with the caller's credentials (the management account or a
delegated administrator): DescribeOrganization, ListAccounts, the tree from the root down
(ListRoots, then ListOrganizationalUnitsForParent and ListAccountsForParent per root or OU),
ListPolicies of the SCPs, ListTargetsForPolicy and DescribePolicy of each attached one. Its cost
grows with the OUs and policies (and pages of accounts), never with instances.

``LiveUnits.read`` reads one unit through the account's role: the region's answers (only
DescribeInstances when it holds no instance), the account's IAM once per account and run
(shared by its regions' units), and the account's SCPs from the organization's answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from auditor.errors import UsageError
from auditor.sources import api_calls, live
from auditor.sources.description import SourceDescription
from auditor.sources.organization.access import OrganizationAccess
from auditor.sources.organization.answers import OrganizationAnswers
from auditor.sources.organization.pool import run_pool
from auditor.sources.organization.units import Selection, Unit, UnitFailure, units_of
from auditor.sources.raw import RawRegion

if TYPE_CHECKING:
    from auditor.sources.live import Progress

NEEDS_MANAGEMENT = ("--org needs the credentials of the organization's management account or "
                    "of a delegated administrator")
CONSOLIDATED_BILLING = "CONSOLIDATED_BILLING"


def read_organization(access: OrganizationAccess, progress: Progress | None = None
                      ) -> OrganizationAnswers:
    """The organization's own answers. Raises ``UsageError`` (one line) when the caller cannot
    read them: no credentials, not in an organization, Organizations denied."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        caller = access.caller_account_id()
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"cannot read AWS: {live.refusal(error) or live.one_line(error)}"
                         ) from None
    raw = RawRegion(region=access.region, account_id=caller)
    try:
        with access.account(caller) as clients:
            _read_organization(live.Reader(clients("organizations", access.region), raw,
                                           progress, label="organization"))
    except BotoCoreError as error:
        raise UsageError(f"cannot read the organization: {live.one_line(error)}") from None
    return OrganizationAnswers(raw.answers, raw.errors, caller)


def _read_organization(reader: live.Reader) -> None:
    organizations = reader.client

    def describe() -> tuple[dict, str]:
        return live.answer_of(organizations.describe_organization()), "1 call"

    try:
        answer = describe()[0]
    except Exception as error:
        if live.error_code(error) == "AWSOrganizationsNotInUseException":
            raise UsageError("the caller's account is in no organization: "
                             f"{NEEDS_MANAGEMENT}") from None
        reason = live.refusal(error)
        if reason is None:
            raise
        raise UsageError(f"cannot describe the organization ({reason}): {NEEDS_MANAGEMENT}"
                         ) from None
    reader.record(api_calls.ORGANIZATION, lambda: (answer, "1 call"))
    accounts = reader.paginate(api_calls.ORGANIZATION_ACCOUNTS, live.EVERYTHING)
    if accounts is None:
        reason = reader.raw.errors[api_calls.ORGANIZATION_ACCOUNTS.kind]
        raise UsageError(f"cannot list the organization's accounts ({reason}): "
                         f"{NEEDS_MANAGEMENT}")
    _read_tree(reader)
    if (answer.get("Organization") or {}).get("FeatureSet") == CONSOLIDATED_BILLING:
        for call in (api_calls.SCP_LIST, api_calls.SCP_TARGETS, api_calls.SCP_DOCUMENTS):
            empty = [] if call.per_resource else {call.result_key: []}
            reader.record(call, lambda empty=empty: (
                empty, "not needed: consolidated billing only (no SCPs)"))
        return
    _read_policies(reader)


def _read_tree(reader: live.Reader) -> None:
    """The roots, then each level's OUs and accounts: one call (and its pages) per parent."""
    roots = reader.paginate(api_calls.ORGANIZATION_ROOTS, live.EVERYTHING)
    if roots is None:
        reason = f"not read: {api_calls.ORGANIZATION_ROOTS.kind} could not be read"
        reader.skip(api_calls.ORGANIZATION_UNITS, reason)
        reader.skip(api_calls.ORGANIZATION_CHILD_ACCOUNTS, reason)
        return
    parents: list[str] = []

    def walk() -> tuple[list[dict], str]:
        answers: list[dict] = []
        level = [root["Id"] for root in roots]
        while level:
            parents.extend(level)
            found = [reader.paged_answer(api_calls.ORGANIZATION_UNITS, {"ParentId": parent},
                                         "ParentId") for parent in level]
            answers.extend(found)
            level = [unit["Id"] for answer in found
                     for unit in answer["OrganizationalUnits"] if unit["Id"] not in parents]
        return answers, live.count_text(len(answers), "call")

    if reader.record(api_calls.ORGANIZATION_UNITS, walk) is None:
        reader.skip(api_calls.ORGANIZATION_CHILD_ACCOUNTS,
                    f"not read: {api_calls.ORGANIZATION_UNITS.kind} could not be read")
        return
    call = api_calls.ORGANIZATION_CHILD_ACCOUNTS
    reader.each(call, [{"ParentId": parent} for parent in parents],
                lambda request: reader.paged_answer(call, request, "ParentId"))


def _read_policies(reader: live.Reader) -> None:
    """The SCPs, where each is attached, and the documents of those attached somewhere."""
    policies = reader.paginate(api_calls.SCP_LIST, [{"Filter": api_calls.SCP_FILTER}])
    if policies is None:
        reason = f"not read: {api_calls.SCP_LIST.kind} could not be read"
        reader.skip(api_calls.SCP_TARGETS, reason)
        reader.skip(api_calls.SCP_DOCUMENTS, reason)
        return
    targets = api_calls.SCP_TARGETS
    reader.each(targets, [{"PolicyId": policy["Id"]} for policy in policies],
                lambda request: reader.paged_answer(targets, request, "PolicyId"))
    attached = reader.raw.answers.get(targets.kind)
    if attached is None:
        reader.skip(api_calls.SCP_DOCUMENTS, f"not read: {targets.kind} could not be read")
        return
    reader.each(api_calls.SCP_DOCUMENTS,
                [{"PolicyId": answer["PolicyId"]} for answer in attached if answer["Targets"]],
                lambda request: live.answer_of(reader.client.describe_policy(**request)))


# --- The units -------------------------------------------------------------------------------


def open_live(profile: str | None, role_name: str, external_id: str | None,
              selection: Selection, concurrency: int = 16, progress: Progress | None = None
              ) -> tuple[LiveUnits, list[Unit]]:
    """The caller's organization read, and the selection's units: what a live run starts
    with. ``UsageError`` when the organization cannot be read or the selection is wrong."""
    access = OrganizationAccess(profile, role_name, external_id)
    organization = read_organization(access, progress)
    return LiveUnits(access, organization), list_units(organization, selection, access,
                                                        concurrency, progress)


def list_units(organization: OrganizationAnswers, selection: Selection,
               access: OrganizationAccess, concurrency: int = 16,
               progress: Progress | None = None) -> list[Unit]:
    """The selection's units, sorted, the shard's slice only. An account named in
    ``--accounts`` that is not an ACTIVE account of the organization is a ``UsageError``. With
    ``--regions all`` each account's enabled regions are listed through its role (ec2
    DescribeRegions); an account where that fails gives one unit in error, region ``all``."""
    accounts = select_accounts(organization, selection.accounts)
    if not selection.all_regions:
        regions = list(selection.regions) or [access.region]
        return units_of(accounts, dict.fromkeys(accounts, regions), selection.shard)
    regions_of: dict[str, list[str] | str] = {}

    def listed(account: str) -> list[str] | str:
        try:
            return enabled_regions(access, account)
        except UnitFailure as failure:
            return str(failure)

    def done(account: str, regions: list[str] | str) -> None:
        regions_of[account] = regions
        if progress:
            progress(f"regions of {len(regions_of)}/{len(accounts)} accounts listed")

    run_pool(accounts, listed, done, concurrency)
    return units_of(accounts, regions_of, selection.shard)


def select_accounts(organization: OrganizationAnswers, wanted: Iterable[str]) -> list[str]:
    """The ACTIVE accounts, or those of ``wanted`` (each must be one of them)."""
    active = organization.active_accounts()
    wanted = list(wanted)
    if not wanted:
        return active
    states = organization.account_states()
    for account in wanted:
        if account not in states:
            raise UsageError(f"--accounts {account}: not an account of organization "
                             f"{organization.organization_id or '?'} ({len(active)} active "
                             "accounts)")
        if account not in active:
            raise UsageError(f"--accounts {account}: the account is {states[account]}, "
                             "not ACTIVE")
    return sorted(wanted)


def enabled_regions(access: OrganizationAccess, account_id: str) -> list[str]:
    """The regions enabled in the account (DescribeRegions through its role), sorted."""
    from botocore.exceptions import BotoCoreError

    from auditor.sources.shapes import check_answer

    call = api_calls.ENABLED_REGIONS
    try:
        with access.account(account_id) as clients:
            answer = live.answer_of(clients("ec2", access.region).describe_regions())
        check_answer(call, answer, f"the {call.operation} answer")
    except UsageError as error:  # an answer of another shape
        raise UnitFailure(f"cannot list its regions: {error}") from None
    except BotoCoreError as error:
        raise UnitFailure(f"cannot list its regions: {live.one_line(error)}") from None
    except Exception as error:
        reason = live.refusal(error)
        if reason is None:
            raise
        raise UnitFailure(f"cannot list its regions: {reason}") from None
    return sorted(region["RegionName"] for region in answer[call.result_key]
                  if region.get("RegionName"))


# --- One unit's raw answers ------------------------------------------------------------------


class _Once:
    """An account's IAM answers: read by the first unit that needs them, shared by the rest."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.raw: RawRegion | None = None


class LiveUnits:
    """Units read live (the ``UnitSource`` of a live ``--org`` run and of the unit Lambda)."""

    def __init__(self, access: OrganizationAccess, organization: OrganizationAnswers) -> None:
        self.access = access
        self.organization = organization
        self._lock = threading.Lock()
        self._iam: dict[str, _Once] = {}
        self._networks: dict[str, _Once] = {}  # far sides, by unit key
        self._remaining: dict[str, int] = {}

    def expect(self, units: Iterable[Unit]) -> None:
        """The units to be read: an account's IAM answers are let go after its last unit."""
        for unit in units:
            self._remaining[unit.account_id] = self._remaining.get(unit.account_id, 0) + 1

    def description(self) -> SourceDescription:
        return SourceDescription("aws", profile=self.access.profile,
                                 organization=self.organization.describe())

    def read(self, unit: Unit, deadline: float | None = None,
             progress: Progress | None = None) -> RawRegion:
        """The unit's raw answers; raises ``UnitFailure`` (the reason) when it cannot be read."""
        from botocore.exceptions import BotoCoreError

        try:
            if unit.error:
                raise UnitFailure(unit.error)
            with self.access.account(unit.account_id, deadline) as clients:
                raw = live.collect_region(clients, unit.region, None, progress,
                                          skip_empty=True, label=unit.key)
                raw.account_id = unit.account_id
                if _has_instances(raw):
                    iam = self._account_iam(unit, clients, progress)
                    raw.answers.update(iam.answers)
                    raw.errors.update(iam.errors)
                    answers, errors = self.organization.account_answers(unit.account_id)
                    raw.answers.update(answers)
                    raw.errors.update(errors)
            return raw
        except UsageError as error:  # DescribeInstances refused: the region cannot be read
            raise UnitFailure(str(error)) from None
        except BotoCoreError as error:
            raise UnitFailure(live.one_line(f"{type(error).__name__}: {error}")) from None
        finally:
            self._done(unit.account_id)

    def read_network(self, unit: Unit, deadline: float | None = None) -> RawRegion:
        """Another account's network in a region (no IAM, no instance is audited), read once
        per run: every spoke of a hub asks for it."""
        from botocore.exceptions import BotoCoreError

        with self._lock:
            once = self._networks.setdefault(unit.key, _Once())
        with once.lock:
            if once.raw is None:
                try:
                    with self.access.account(unit.account_id, deadline) as clients:
                        once.raw = live.collect_region(clients, unit.region, None, None,
                                                       label=unit.key)
                except (UsageError, BotoCoreError) as error:
                    raise UnitFailure(live.one_line(str(error))) from None
                once.raw.account_id = unit.account_id
            return once.raw

    def _account_iam(self, unit: Unit, clients: Callable, progress: Progress | None
                     ) -> RawRegion:
        with self._lock:
            once = self._iam.setdefault(unit.account_id, _Once())
        with once.lock:
            if once.raw is None:
                once.raw = live.collect_iam(clients, self.access.region, unit.account_id,
                                            progress, label=f"{unit.account_id}/account")
            return once.raw

    def _done(self, account_id: str) -> None:
        with self._lock:
            if account_id not in self._remaining:
                return
            self._remaining[account_id] -= 1
            if self._remaining[account_id] <= 0:
                self._iam.pop(account_id, None)


def _has_instances(raw: RawRegion) -> bool:
    answer: Any = raw.answers.get(api_calls.INSTANCES.kind) or {}
    return any(reservation.get("Instances") for reservation in answer.get("Reservations") or [])
