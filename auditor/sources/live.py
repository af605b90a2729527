"""Read the estate from AWS, read-only: one paginated call per resource kind and region.

IAM is global: it is read once per account (``GetAccountAuthorizationDetails``, plus
``GetPolicy``/``GetPolicyVersion`` only for an attached managed policy that answer lacks) and the
same answers are put into every region's ``RawRegion``. So are the service control policies that
apply to the account (Organizations: ``DescribeOrganization``, then ``ListParents``,
``ListPoliciesForTarget`` and ``DescribePolicy``, which only the management account or a
delegated administrator may call). Systems Manager is read per region: the Default Host
Management setting and ``DescribeInstanceInformation``.

boto3 and botocore are imported inside the functions: the command line imports this module only
when it talks to AWS, so snapshot mode starts without them.

Each kind lands in ``RawRegion.answers`` in the AWS CLI's JSON shape (all pages merged, no
``ResponseMetadata`` or ``NextToken``, timestamps as ISO 8601 text). A call that AWS refuses
(AccessDenied, throttling that outlasts the retries, any other error) is recorded in
``RawRegion.errors`` and the collection goes on; the analysis turns that kind into ``unknown``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from auditor import aws_facts, limits
from auditor.aws_facts import no_scp_applies
from auditor.errors import UsageError
from auditor.model import joined_vpcs
from auditor.sources import api_calls, dns_raw
from auditor.sources.api_calls import ApiCall
from auditor.sources.raw import RawRegion

if TYPE_CHECKING:
    import boto3
    from botocore.client import BaseClient

Progress = Callable[[str], None]
# Makes the client of a service in a region: one account's credentials (``session_clients``,
# or an assumed role's in organization mode).
Clients = Callable[[str, str], "BaseClient"]

# The SDK's retries as configured (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, or max_attempts and
# retry_mode in the profile); what is not configured takes these, and every attempt is bounded
# by the connect and read timeouts (auditor/limits.py).
DEFAULT_RETRY_MODE = "standard"
FILTER_CHUNK = 200  # the most values EC2 accepts in one filter or id list
SSM_FILTER_CHUNK = 50  # instance ids per DescribeInstanceInformation filter (AWS allows 100)
# Roles (with their instance profiles, inline and attached policies) and the managed policies;
# users and groups are not needed. AWS lists the AWS managed policies that are attached.
IAM_FILTER = ["Role", "LocalManagedPolicy", "AWSManagedPolicy"]
IAM_DETAIL_KEYS = ("RoleDetailList", "Policies")
DNS_ATTRIBUTES = ("enableDnsSupport", "enableDnsHostnames")
# AWS nests OUs at most five deep under the root: an account is at most six ListParents calls
# from it. The cap only guards against an answer that never reaches the root.
ORGANIZATION_MAX_DEPTH = 10

# Kinds read with one call filtered to the VPCs in scope, and the filter that names the VPC.
VPC_FILTERED_CALLS: tuple[tuple[ApiCall, str], ...] = (
    (api_calls.SUBNETS, "vpc-id"),
    (api_calls.ROUTE_TABLES, "vpc-id"),
    (api_calls.INTERNET_GATEWAYS, "attachment.vpc-id"),
    (api_calls.NAT_GATEWAYS, "vpc-id"),
    (api_calls.SECURITY_GROUPS, "vpc-id"),
    (api_calls.NETWORK_ACLS, "vpc-id"),
    (api_calls.VPC_ENDPOINTS, "vpc-id"),
)

Request = dict[str, Any]
EVERYTHING: list[Request] = [{}]  # one unfiltered call


def collect(regions: list[str] | None, profile: str | None = None,
            instance_ids: list[str] | None = None,
            progress: Progress | None = None) -> list[RawRegion]:
    """Read every region's raw answers.

    ``instance_ids`` scopes the reading to those instances and their VPCs (ids not found are
    simply absent from the answer); None or empty reads everything in the region (``--all``).
    The account-wide answers (IAM, Organizations) are read once, after the regions, when a
    region has something in scope, and their answers (or errors) are copied into every such
    region. Reading them last lets Organizations know the account (the instances' ``OwnerId``)
    whichever region holds the instances. Raises ``UsageError`` when AWS cannot be used at all
    (no region, no credentials, no endpoint, DescribeInstances refused).
    """
    from botocore.exceptions import BotoCoreError

    session = _open_session(profile)
    clients = session_clients(session)
    captures = []
    for region in _regions(session, regions):
        try:
            captures.append(collect_region(clients, region, instance_ids or None, progress))
        except BotoCoreError as error:
            raise UsageError(f"cannot read AWS in {region}: {_one_line(error)}") from None
    in_scope = [raw for raw in captures if not instance_ids or _instance_ids_of(raw)]
    if in_scope:
        region = in_scope[0].region
        account_id = next((raw.account_id for raw in captures if raw.account_id), "")
        try:
            account = _collect_account(clients, region, account_id, progress)
        except BotoCoreError as error:
            raise UsageError(f"cannot read AWS in {region}: {_one_line(error)}") from None
        for raw in in_scope:
            raw.answers.update(account.answers)
            raw.errors.update(account.errors)
    return captures


# --- Session, regions, client ----------------------------------------------------------------


def _open_session(profile: str | None) -> boto3.Session:
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.Session(profile_name=profile)
    except BotoCoreError as error:  # ProfileNotFound and friends
        raise UsageError(_one_line(error)) from None


def _regions(session: boto3.Session, regions: list[str] | None) -> list[str]:
    """The regions asked for, else the session's (AWS_REGION first, as the other SDKs do)."""
    if regions:
        return list(dict.fromkeys(regions))
    region = os.environ.get("AWS_REGION") or session.region_name
    if not region:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    return [region]


def _retries(session: boto3.Session) -> dict[str, Any]:
    """The project's retry settings for what the user did not configure; botocore takes the
    rest from the environment and the profile."""
    from botocore.exceptions import BotoCoreError

    try:  # boto3 has no public accessor for the profile's settings
        scoped = session._session.get_scoped_config()
    except BotoCoreError:
        scoped = {}
    retries: dict[str, Any] = {}
    if not (os.environ.get("AWS_RETRY_MODE") or scoped.get("retry_mode")):
        retries["mode"] = DEFAULT_RETRY_MODE
    if not (os.environ.get("AWS_MAX_ATTEMPTS") or scoped.get("max_attempts")):
        retries["total_max_attempts"] = limits.LIVE_MAX_ATTEMPTS.value
    return retries


def session_clients(session: boto3.Session) -> Clients:
    """The clients of one session (its credentials), made as ``client`` makes them."""
    return lambda service, region: client(session, service, region)


def client(session: boto3.Session, service: str, region: str, **credentials: str) -> BaseClient:
    """A client with the auditor's retries (the SDK's as configured, else ``_retries``), connect
    and read timeouts, the run's ``--deadline`` and user agent; ``credentials``
    (aws_access_key_id...) override the session's. Every client of the auditor is made here,
    the organization mode's too."""
    from botocore.config import Config

    config = Config(retries=_retries(session), user_agent_extra="ssm-auditor",
                    connect_timeout=limits.LIVE_CONNECT_TIMEOUT.value,
                    read_timeout=limits.LIVE_READ_TIMEOUT.value)
    made = session.client(service, region_name=region, config=config, **credentials)
    event = f"needs-retry.{made.meta.service_model.service_id.hyphenize()}"
    made.meta.events.register_first(event, _no_retry_without_aws_error)
    made.meta.events.register_first("before-send", _check_run_deadline)
    return made


# The run's --deadline as (time.monotonic() it passes, its seconds), set by the command line.
# The command's timer signal stops the main thread; this stops every other thread (the units
# of an organization run) at its next request.
_run_deadline: list[tuple[float, float] | None] = [None]


def set_run_deadline(seconds: float | None) -> None:
    import time

    _run_deadline[0] = None if seconds is None else (time.monotonic() + seconds, seconds)


def _check_run_deadline(**_kwargs: Any) -> None:
    import time

    from auditor.errors import DeadlineExceeded

    deadline = _run_deadline[0]
    if deadline is not None and time.monotonic() > deadline[0]:
        raise DeadlineExceeded(deadline[1])


def _no_retry_without_aws_error(response: Any = None, **_kwargs: Any) -> bool | None:
    """Do not retry an HTTP 500 that carries no AWS error code.

    AWS names its internal errors (``InternalError``, ``InternalServerError``), and those are
    retried as usual. A bare 500 page comes from something that is not the AWS API: an emulator
    that does not implement the operation (a moto server answers so for
    ``GetServiceSetting`` and ``DescribeInstanceInformation``) or a broken proxy. Ten retries
    with back-off would cost a minute per call for the same answer. Returning False stops the
    retry (botocore takes the first answer that is not None); None leaves the decision to the
    standard retry handler.
    """
    if not response:
        return None
    http_response, parsed = response
    code = str(((parsed or {}).get("Error") or {}).get("Code") or "")
    if getattr(http_response, "status_code", None) == 500 and code in ("", "500"):
        return False
    return None


# --- One region ------------------------------------------------------------------------------


def collect_region(clients: Clients, region: str, instance_ids: list[str] | None,
                   progress: Progress | None, skip_empty: bool = False,
                   label: str | None = None) -> RawRegion:
    """One region's answers (not the account-wide ones). ``skip_empty``: a region without
    instances reads nothing more than DescribeInstances (organization mode: most regions of
    most accounts are empty). Raises ``UsageError`` when DescribeInstances is refused."""
    reader = _Reader(clients("ec2", region), RawRegion(region=region), progress, label)
    instance_requests = _filtered("instance-id", instance_ids) if instance_ids else EVERYTHING
    reservations = reader.paginate(api_calls.INSTANCES, instance_requests)
    if reservations is None:
        reason = reader.raw.errors[api_calls.INSTANCES.kind]
        raise UsageError(f"cannot describe instances in {region}: {reason}")
    reader.raw.account_id = next(
        (str(r["OwnerId"]) for r in reservations if r.get("OwnerId")), "")
    instance_vpcs = _vpc_ids_of(reservations)
    if not instance_vpcs and (instance_ids or skip_empty):
        return reader.raw  # none of the instances is here: nothing else to read
    if instance_ids:
        # DNS first: the instances' names may lead to endpoints in other VPCs, read too.
        _collect_dns(clients, region, reader.raw, instance_vpcs, progress, label)
        reached = _dns_reached_vpcs(reader, instance_vpcs)
        _collect_network(reader, _union(instance_vpcs, reached), scoped=True)
    else:
        _collect_network(reader, instance_vpcs, scoped=False)
        vpcs = reader.raw.answers.get(api_calls.VPCS.kind) or {}
        _collect_dns(clients, region, reader.raw,
                     _union(instance_vpcs, _ids(vpcs.get("Vpcs"), "VpcId")), progress, label)
    ssm = _Reader(clients("ssm", region), reader.raw, progress, label)
    _read_dhmc_setting(ssm)
    _read_instance_information(ssm, _instance_ids_of(reader.raw) if instance_ids else None)
    from auditor.sources.live_session import collect_session_targets

    collect_session_targets(clients, reader.raw, progress, label)
    return reader.raw


def _collect_network(reader: _Reader, instance_vpcs: list[str], scoped: bool) -> None:
    """Everything but the instances: filtered to ``instance_vpcs`` when ``scoped``, and to the
    VPCs of this account that a transit gateway or peering connection joins to them."""
    _read_beyond(reader)
    if scoped:
        instance_vpcs = _union(instance_vpcs, _joined_vpcs(reader.raw, instance_vpcs))
    vpcs = reader.paginate(api_calls.VPCS,
                           _by_ids("VpcIds", instance_vpcs) if scoped else EVERYTHING)
    vpcs_in_scope = instance_vpcs if scoped else _union(instance_vpcs, _ids(vpcs, "VpcId"))
    _read_dns_attributes(reader, vpcs_in_scope)
    reader.paginate(api_calls.DHCP_OPTIONS, _dhcp_requests(vpcs, scoped))
    for call, vpc_filter in VPC_FILTERED_CALLS:
        reader.paginate(call, _filtered(vpc_filter, instance_vpcs) if scoped else EVERYTHING)
    reader.paginate(api_calls.PREFIX_LISTS, EVERYTHING)
    _read_prefix_list_entries(reader, _referenced_prefix_lists(reader.raw))
    _read_endpoint_interfaces(reader, scoped)


def _read_beyond(reader: _Reader) -> None:
    """Transit gateways and peering connections. Without a transit gateway (owned or shared),
    none of the other transit gateway calls is made: their answers are empty."""
    reader.paginate(api_calls.VPC_PEERING_CONNECTIONS, EVERYTHING)
    gateways = reader.paginate(api_calls.TRANSIT_GATEWAYS, EVERYTHING)
    rest = api_calls.TRANSIT_GATEWAY_CALLS[1:]
    if gateways is None:
        for call in rest:
            reader.skip(call, f"not read: {api_calls.TRANSIT_GATEWAYS.kind} could not be read")
        return
    if not gateways:
        for call in rest:
            reader.record(call, lambda call=call: (
                [] if call.per_resource else {call.result_key: []},
                "not needed: no transit gateway"))
        return
    for call in rest[:-1]:
        reader.paginate(call, EVERYTHING)
    tables = reader.raw.answers.get(api_calls.TRANSIT_GATEWAY_ROUTE_TABLES.kind)
    routes = api_calls.TRANSIT_GATEWAY_ROUTES
    if tables is None:
        reader.skip(routes, f"not read: {api_calls.TRANSIT_GATEWAY_ROUTE_TABLES.kind} could "
                            "not be read")
        return
    table_ids = _ids(tables[api_calls.TRANSIT_GATEWAY_ROUTE_TABLES.result_key],
                     "TransitGatewayRouteTableId")
    reader.each(routes, [{"TransitGatewayRouteTableId": table_id,
                          "Filters": [api_calls.TRANSIT_GATEWAY_ROUTE_FILTER]}
                         for table_id in table_ids],
                lambda request: reader.paged_answer(routes, request,
                                                    "TransitGatewayRouteTableId"))


def _joined_vpcs(raw: RawRegion, vpc_ids: list[str]) -> list[str]:
    """The VPCs a transit gateway or peering connection joins to ``vpc_ids`` (the parser's
    rule, on the raw answers read so far)."""
    from auditor.sources.parse import beyond_of

    attachments, peerings = beyond_of(raw)
    return sorted(joined_vpcs(set(vpc_ids), attachments, peerings))


def _dhcp_requests(vpcs: list[dict] | None, scoped: bool) -> list[Request]:
    if not scoped or vpcs is None:  # without the VPCs, read them all rather than nothing
        return EVERYTHING
    option_ids = [vpc.get("DhcpOptionsId") for vpc in vpcs]
    return _by_ids("DhcpOptionsIds", [oid for oid in option_ids
                                      if oid and oid != aws_facts.NO_DHCP_OPTIONS])


def _read_dns_attributes(reader: _Reader, vpc_ids: list[str]) -> None:
    """DescribeVpcAttribute takes one VPC and one attribute per call: AWS has no bulk form."""
    requests = [{"VpcId": vpc_id, "Attribute": attribute}
                for vpc_id in vpc_ids for attribute in DNS_ATTRIBUTES]
    reader.each(api_calls.VPC_ATTRIBUTES, requests,
                lambda request: _answer(reader.client.describe_vpc_attribute(**request)))


def _read_prefix_list_entries(reader: _Reader, prefix_list_ids: list[str]) -> None:
    call = api_calls.PREFIX_LIST_ENTRIES
    reader.each(call, [{"PrefixListId": pl_id} for pl_id in prefix_list_ids],
                lambda request: reader.paged_answer(call, request, "PrefixListId"))


def _read_endpoint_interfaces(reader: _Reader, scoped: bool) -> None:
    call = api_calls.NETWORK_INTERFACES
    if not scoped:
        reader.paginate(call, EVERYTHING)
        return
    endpoints = reader.raw.answers.get(api_calls.VPC_ENDPOINTS.kind)
    if endpoints is None:
        reader.skip(call, f"not read: {api_calls.VPC_ENDPOINTS.kind} could not be read")
        return
    eni_ids = _union(*(endpoint.get("NetworkInterfaceIds") or []
                       for endpoint in endpoints[api_calls.VPC_ENDPOINTS.result_key]))
    reader.paginate(call, _filtered("network-interface-id", eni_ids))


# --- DNS, per region --------------------------------------------------------------------------


def _collect_dns(clients: Clients, region: str, raw: RawRegion, vpc_ids: list[str],
                 progress: Progress | None, label: str | None = None) -> None:
    """Private hosted zones, Resolver rules, DNS Firewall and Route 53 Profiles of ``vpc_ids``.

    Profiles first (they add zones, rules and rule groups to the VPCs they are associated
    with), then the zones of each VPC and the records of those that may answer for the agent's
    names (following records into further zones), the Resolver rules, and the firewall rule
    groups with their rules and domain lists. A service that cannot be reached at all (no
    endpoint in the region) leaves its kinds unknown; the rest of the region is still read.
    """
    def profiles() -> None:
        reader = _Reader(clients("route53profiles", region), raw, progress, label)
        reader.paginate(api_calls.PROFILE_ASSOCIATIONS, EVERYTHING)
        profile_ids = sorted({pid for ids in dns_raw.profiles_by_vpc(raw.answers,
                                                                     vpc_ids).values()
                              for pid in ids})
        call = api_calls.PROFILE_RESOURCES
        reader.each(call, [{"ProfileId": pid} for pid in profile_ids],
                    lambda request: reader.paged_answer(call, request, "ProfileId"))

    def zones() -> None:
        reader = _Reader(clients("route53", region), raw, progress, label)
        reader.record(api_calls.HOSTED_ZONES_BY_VPC, lambda: _zones_of_vpcs(reader.client,
                                                                           region, vpc_ids))
        _read_record_sets(reader, vpc_ids, region)

    def resolver() -> None:
        reader = _Reader(clients("route53resolver", region), raw, progress, label)
        reader.paginate(api_calls.RESOLVER_RULES, EVERYTHING)
        reader.paginate(api_calls.RESOLVER_RULE_ASSOCIATIONS, EVERYTHING)
        reader.paginate(api_calls.FIREWALL_ASSOCIATIONS, EVERYTHING)
        groups = sorted({group for found in dns_raw.firewall_groups_by_vpc(
            raw.answers, vpc_ids).values() for group, _, _ in found})
        call = api_calls.FIREWALL_RULES
        reader.each(call, [{"FirewallRuleGroupId": group} for group in groups],
                    lambda request: reader.paged_answer(call, request, "FirewallRuleGroupId"))
        lists = dns_raw.firewall_list_ids(raw.answers)
        reader.paginate(api_calls.FIREWALL_DOMAIN_LISTS, EVERYTHING if lists else [])
        managed = dns_raw.managed_list_ids(raw.answers)
        call = api_calls.FIREWALL_DOMAINS
        reader.each(call, [{"FirewallDomainListId": list_id} for list_id in lists
                           if list_id not in managed],
                    lambda request: reader.paged_answer(call, request, "FirewallDomainListId"))

    for part, service in ((profiles, "route53profiles"), (zones, "route53"),
                          (resolver, "route53resolver")):
        _unless_unreachable(part, raw, service)


def _unless_unreachable(part: Callable[[], None], raw: RawRegion, service: str) -> None:
    """Run ``part``; when the service cannot be reached at all (no endpoint, no connection),
    record its kinds not read yet as unavailable instead of failing the region."""
    from botocore.exceptions import BotoCoreError

    try:
        part()
    except BotoCoreError as error:
        for call in api_calls.DNS_CALLS:
            if call.service == service and call.kind not in raw.answers:
                raw.errors.setdefault(call.kind, f"{type(error).__name__}: {_one_line(error)}")


def _zones_of_vpcs(client: BaseClient, region: str, vpc_ids: list[str]) -> tuple[list, str]:
    """ListHostedZonesByVPC for each VPC. A VPC whose listing fails otherwise than by a
    denial (throttled past the retries, an error of the service) is kept with its error, so
    that it alone is unknown, not every VPC of the region; a denial refuses them all."""
    answers: list[dict] = []
    failed = 0
    for vpc_id in vpc_ids:
        request = {"VPCId": vpc_id, "VPCRegion": region}
        try:
            answers.append(_hosted_zones_by_vpc(client, request))
        except Exception as error:
            reason = _refusal(error)
            if reason is None or _denied(error):
                raise
            failed += 1
            answers.append({**request, "Error": reason})
    detail = _count(len(vpc_ids), "call") if vpc_ids else "nothing in scope"
    return answers, detail + (f", {failed} failed" if failed else "")


def _denied(error: Exception) -> bool:
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return "AccessDenied" in code or code in ("UnauthorizedOperation", "AuthFailure")


def _hosted_zones_by_vpc(client: BaseClient, request: Request) -> dict:
    """ListHostedZonesByVPC, every page (botocore has no paginator for it)."""
    summaries: list[dict] = []
    token = None
    while True:
        answer = client.list_hosted_zones_by_vpc(**request, **({"NextToken": token}
                                                              if token else {}))
        summaries += answer.get("HostedZoneSummaries") or []
        token = answer.get("NextToken")
        if not token:
            return _plain({**request, "HostedZoneSummaries": summaries})


def _read_record_sets(reader: _Reader, vpc_ids: list[str], region: str) -> None:
    """The records of the zones that may answer for the agent's names, in rounds: a record
    leading into another associated zone adds that zone. A zone this account may not read
    (owned by another account or an AWS service) is not asked for; a zone refused anyway is
    kept with its error, so that one shared zone does not make every zone unknown."""
    call = api_calls.RECORD_SETS
    if call.kind in reader.raw.errors or api_calls.HOSTED_ZONES_BY_VPC.kind in reader.raw.errors:
        reader.skip(call, f"not read: {api_calls.HOSTED_ZONES_BY_VPC.kind} could not be read")
        return
    summaries = {dns_raw.zone_id(str(s.get("HostedZoneId") or "")): s
                 for found in dns_raw.zones_by_vpc(reader.raw.answers, vpc_ids).values()
                 for s in found}
    answers: list[dict] = []
    reader.raw.answers[call.kind] = answers
    done: list[str] = []
    for _ in range(dns_raw.ZONE_ROUNDS):
        zones = dns_raw.zones_to_read(reader.raw.answers, vpc_ids, region, done)
        if not zones:
            break
        done += zones
        for zone in zones:
            why_not = dns_raw.readable_zone(summaries.get(zone, {}), reader.raw.account_id)
            if why_not:
                answers.append({"HostedZoneId": zone, "Error": why_not})
                continue
            try:
                answers.append(reader.paged_answer(call, {"HostedZoneId": zone}, "HostedZoneId"))
            except Exception as error:
                reason = _refusal(error)
                if reason is None:
                    raise
                answers.append({"HostedZoneId": zone, "Error": reason})
    reader._report(call, _count(len(done), "zone") if done else "nothing in scope")


def _dns_reached_vpcs(reader: _Reader, vpc_ids: list[str]) -> list[str]:
    """The VPCs, beyond ``vpc_ids``, of the endpoints and addresses the zones' records name:
    one DescribeVpcEndpoints (all of the region's, for their DNS names) and one
    DescribeNetworkInterfaces (by address) when some record names something; their answers
    only say which VPCs to read, and are not kept."""
    answers = reader.raw.answers
    records = [record for zones in dns_raw.zones_by_vpc(answers, vpc_ids).values()
               for zone in zones
               for record in dns_raw.records_by_zone(answers).get(
                   dns_raw.zone_id(str(zone.get("HostedZoneId") or "")), [])]
    targets = [target for record in records for target in dns_raw.record_targets(record)]
    addresses = sorted({value["Value"] for record in records
                        if str(record.get("Type") or "").upper() == "A"
                        for value in record.get("ResourceRecords") or [] if value.get("Value")})
    shared = dns_raw.profile_arns(answers, vpc_ids, "vpc-endpoint")
    found: set[str] = set()
    try:
        if targets or shared:
            peek = {**answers, api_calls.VPC_ENDPOINTS.kind: reader.pages(
                api_calls.VPC_ENDPOINTS, EVERYTHING)[0]}
            found |= dns_raw.reached_vpcs(peek, vpc_ids)
        if addresses:
            interfaces, _ = reader.pages(api_calls.NETWORK_INTERFACES,
                                         _filtered("addresses.private-ip-address", addresses))
            found |= {eni["VpcId"] for eni in interfaces["NetworkInterfaces"]
                      if eni.get("VpcId")}
    except Exception as error:
        if _refusal(error) is None:
            raise
        return []  # the endpoints' own reads will say what is missing
    return sorted(found - set(vpc_ids))


# --- Systems Manager, per region -------------------------------------------------------------


def _read_dhmc_setting(reader: _Reader) -> None:
    """The Default Host Management setting: {"ServiceSetting": {...}} as the CLI prints it.

    AWS answers ``ServiceSettingNotFound`` when the setting was never provisioned: that means
    "not set", stored as {"ServiceSetting": null}, not as an error.
    """
    def fetch() -> tuple[dict, str]:
        try:
            answer = reader.client.get_service_setting(SettingId=api_calls.DHMC_SETTING_ID)
        except Exception as error:
            if _error_code(error) != "ServiceSettingNotFound":
                raise
            return {"ServiceSetting": None}, "not set (ServiceSettingNotFound)"
        return _answer(answer), "1 call"

    reader.record(api_calls.DHMC_SETTING, fetch)


def _read_instance_information(reader: _Reader, instance_ids: list[str] | None) -> None:
    """Systems Manager's view of the nodes: of ``instance_ids`` only, or all of the region's."""
    call = api_calls.INSTANCE_INFORMATION
    if instance_ids is None:
        reader.paginate(call, EVERYTHING)
        return
    requests = [{"Filters": [{"Key": "InstanceIds", "Values": chunk}]}
                for chunk in _chunks(instance_ids, SSM_FILTER_CHUNK)]

    def fetch() -> tuple[dict, str]:
        try:
            return reader.pages(call, requests)
        except Exception as error:
            if _error_code(error) != "InvalidInstanceId":
                raise
            # Should SSM refuse ids it does not manage rather than leave them out, read the
            # region's list unfiltered: the parser keeps the instances in scope.
            return reader.pages(call, EVERYTHING)

    reader.record(call, fetch)


# --- IAM and Organizations, once per account -------------------------------------------------


def _collect_account(clients: Clients, region: str, account_id: str,
                     progress: Progress | None) -> RawRegion:
    """The account-wide answers: IAM, then the service control policies of ``account_id``."""
    raw = collect_iam(clients, region, account_id, progress)
    _read_organization(_Reader(clients("organizations", region), raw, progress,
                               label="account"), account_id)
    return raw


def collect_iam(clients: Clients, region: str, account_id: str, progress: Progress | None,
                label: str = "account") -> RawRegion:
    """The account's IAM answers (roles, instance profiles, the managed policies they use;
    users and groups, for --operator and --operators)."""
    from auditor.sources.live_session import collect_principals

    raw = RawRegion(region=region, account_id=account_id)
    _read_iam(_Reader(clients("iam", region), raw, progress, label=label))
    collect_principals(_Reader(clients("iam", region), raw, progress, label=label))
    return raw


def _read_iam(reader: _Reader) -> None:
    """Roles, instance profiles and the managed policies they use.

    One bulk call whatever the number of instances. ``GetPolicy`` and ``GetPolicyVersion`` run
    only for a managed policy that a role uses (attached or as its permissions boundary) but
    that the bulk answer does not list.
    """
    iam = reader.client
    details = reader.record(api_calls.IAM_AUTHORIZATION, lambda: reader.pages(
        api_calls.IAM_AUTHORIZATION, [{"Filter": IAM_FILTER}], IAM_DETAIL_KEYS))
    if details is None:
        reason = f"not read: {api_calls.IAM_AUTHORIZATION.kind} could not be read"
        reader.skip(api_calls.IAM_POLICIES, reason)
        reader.skip(api_calls.IAM_POLICY_VERSIONS, reason)
        return

    def policy(request: Request) -> dict:
        return {"PolicyArn": request["PolicyArn"], **_answer(iam.get_policy(**request))}

    def version(request: Request) -> dict:
        return {"PolicyArn": request["PolicyArn"], **_answer(iam.get_policy_version(**request))}

    reader.each(api_calls.IAM_POLICIES,
                [{"PolicyArn": arn} for arn in _unlisted_policies(details)], policy)
    policies = reader.raw.answers.get(api_calls.IAM_POLICIES.kind)
    if policies is None:
        reader.skip(api_calls.IAM_POLICY_VERSIONS,
                    f"not read: {api_calls.IAM_POLICIES.kind} could not be read")
        return
    reader.each(api_calls.IAM_POLICY_VERSIONS,
                [{"PolicyArn": answer["PolicyArn"],
                  "VersionId": answer["Policy"]["DefaultVersionId"]} for answer in policies],
                version)


def _unlisted_policies(details: dict) -> list[str]:
    """Managed policies a role uses that the bulk answer does not describe."""
    listed = {policy.get("Arn") for policy in details.get("Policies") or []}
    used: set[str] = set()
    for role in details.get("RoleDetailList") or []:
        used.update(attached.get("PolicyArn", "")
                    for attached in role.get("AttachedManagedPolicies") or [])
        used.add((role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn", ""))
    return sorted(arn for arn in used if arn and arn not in listed)


def _read_organization(reader: _Reader, account_id: str) -> None:
    """The service control policies that apply to ``account_id``, level by level.

    ``DescribeOrganization`` first: outside an organization (``AWSOrganizationsNotInUseException``,
    stored as {"Organization": null}), for the management account, and in an organization with
    consolidated billing only, no SCP applies and nothing more is read (the other three kinds
    are stored empty). Otherwise ``ListParents`` walks from the account up to the root, and
    ``ListPoliciesForTarget`` and ``DescribePolicy`` read what is attached on the way. Member
    accounts are usually refused the last three (AccessDenied): that is recorded like any
    refusal, and what depends on it is not read.
    """
    rest = api_calls.ORGANIZATION_CALLS[1:]

    def describe() -> tuple[dict, str]:
        try:
            answer = reader.client.describe_organization()
        except Exception as error:
            if _error_code(error) != "AWSOrganizationsNotInUseException":
                raise
            return {"Organization": None}, "not in an organization"
        return _answer(answer), "1 call"

    answer = reader.record(api_calls.ORGANIZATION, describe)
    if answer is None:
        for call in rest:
            reader.skip(call, f"not read: {api_calls.ORGANIZATION.kind} could not be read")
        return
    unneeded = no_scp_applies(answer.get("Organization"), account_id)
    if unneeded:
        for call in rest:
            reader.record(call, lambda: ([], f"not needed: {unneeded}"))
        return
    if not account_id:
        for call in rest:
            reader.skip(call, "not read: the account is unknown (no instance was found)")
        return
    parents = reader.record(api_calls.ORGANIZATION_PARENTS,
                            lambda: _walk_to_root(reader, account_id))
    if parents is None:
        for call in rest[1:]:
            reader.skip(call, f"not read: {api_calls.ORGANIZATION_PARENTS.kind} could not be read")
        return
    targets = [answer["ChildId"] for answer in parents]
    targets += [parent["Id"] for parent in parents[-1]["Parents"][:1]]

    reader.each(api_calls.SCP_ATTACHMENTS,
                [{"TargetId": target, "Filter": api_calls.SCP_FILTER} for target in targets],
                lambda request: reader.paged_answer(api_calls.SCP_ATTACHMENTS, request,
                                                    "TargetId"))
    attachments = reader.raw.answers.get(api_calls.SCP_ATTACHMENTS.kind)
    if attachments is None:
        reader.skip(api_calls.SCP_DOCUMENTS,
                    f"not read: {api_calls.SCP_ATTACHMENTS.kind} could not be read")
        return
    policy_ids = list(dict.fromkeys(policy["Id"] for answer in attachments
                                    for policy in answer["Policies"] if policy.get("Id")))
    reader.each(api_calls.SCP_DOCUMENTS, [{"PolicyId": policy_id} for policy_id in policy_ids],
                lambda request: _answer(reader.client.describe_policy(**request)))


def _walk_to_root(reader: _Reader, account_id: str) -> tuple[list[dict], str]:
    """ListParents from the account up to the root: one answer per level, ChildId added."""
    answers: list[dict] = []
    child, seen = account_id, {account_id}
    while len(answers) < ORGANIZATION_MAX_DEPTH:
        answers.append(reader.paged_answer(api_calls.ORGANIZATION_PARENTS, {"ChildId": child},
                                           "ChildId"))
        parents = answers[-1]["Parents"]
        if not parents or parents[0].get("Type") == "ROOT" or parents[0].get("Id") in seen:
            break
        child = parents[0]["Id"]
        seen.add(child)
    return answers, _count(len(answers), "call")


# --- Reading and recording -------------------------------------------------------------------


class _Reader:
    """Runs calls through one client and records answers and errors into ``raw``."""

    def __init__(self, client: BaseClient, raw: RawRegion, progress: Progress | None,
                 label: str | None = None) -> None:
        self.client = client
        self.raw = raw
        self._progress = progress
        self._label = label or raw.region

    def record(self, call: ApiCall, fetch: Callable[[], tuple[Any, str]]) -> Any:
        """Store the answer ``fetch`` returns (with a progress detail), or record its refusal.

        Returns the answer, or None when AWS refused.
        """
        from auditor.sources.shapes import check_answer

        try:
            answer, detail = fetch()
            try:
                check_answer(call, answer, f"the {call.operation} answer")
            except UsageError as error:
                raise NotTheServiceAnswer(str(error)) from None
        except Exception as error:
            if not self._record_failure(call, error):
                raise
            return None
        self.raw.answers[call.kind] = answer
        self._report(call, detail)
        return answer

    def pages(self, call: ApiCall, requests: list[Request],
              keys: tuple[str, ...] | None = None) -> tuple[dict, str]:
        """Run ``call`` once per request, every page: the lists under ``keys``, merged."""
        keys = keys or (call.result_key,)
        merged: dict[str, list] = {key: [] for key in keys}
        pages = 0
        paginator = self.client.get_paginator(call.method)
        for request in requests:
            for page in paginator.paginate(**request):
                pages += 1
                if not isinstance(page.get(keys[0]), list):  # AWS always answers it, [] or more
                    raise NotTheServiceAnswer(
                        f"the {call.operation} answer has no {keys[0]} list: the endpoint did "
                        f"not answer in {call.service}'s format")
                for key in keys:
                    merged[key].extend(page.get(key) or [])
        return _plain(merged), _count(pages, "page") if requests else "nothing in scope"

    def paged_answer(self, call: ApiCall, request: Request, id_key: str) -> dict:
        """One per-resource call, every page merged, with the resource's id that the CLI's
        answer lacks (e.g. {"PrefixListId": ..., "Entries": [...]})."""
        merged, _ = self.pages(call, [request])
        return {id_key: request[id_key], **merged}

    def paginate(self, call: ApiCall, requests: list[Request]) -> list[dict] | None:
        """Run ``call`` once per request, every page, and store the merged list.

        Returns the merged items, or None when AWS refused. No request means nothing in scope:
        the answer is an empty list and no call is made.
        """
        answer = self.record(call, lambda: self.pages(call, requests))
        return None if answer is None else answer[call.result_key]

    def each(self, call: ApiCall, requests: list[Request],
             fetch: Callable[[Request], dict]) -> None:
        """A per-resource call: store the list of the per-call answers."""
        self.record(call, lambda: (
            [fetch(request) for request in requests],
            _count(len(requests), "call") if requests else "nothing in scope"))

    def skip(self, call: ApiCall, reason: str) -> None:
        self.raw.errors[call.kind] = reason
        self._report(call, reason)

    def _record_failure(self, call: ApiCall, error: Exception) -> bool:
        """Record a refused call; False for errors that make AWS unusable (re-raised)."""
        reason = _refusal(error)
        if reason is None:
            return False
        self.raw.errors[call.kind] = reason
        self._report(call, f"failed: {reason}")
        return True

    def _report(self, call: ApiCall, detail: str) -> None:
        if self._progress:
            self._progress(f"{self._label}: {call.file_name[:-5]} ({detail})")


class NotTheServiceAnswer(Exception):
    """An HTTP 200 whose body is not the service's answer (an HTML page, another API)."""


def _refusal(error: Exception) -> str | None:
    """The one-line reason ("<Code>: <message>") for an error AWS answered, else None.

    Access denied, throttling still failing after the retries, any other API error, an
    operation the endpoint does not implement and an answer that is not an AWS answer at all
    (botocore's ResponseParserError, a body that is not UTF-8, a 200 without the answer's
    list, an answer of another shape) all count: the kind becomes unknown (and a
    DescribeInstances that cannot be read stops the read).
    """
    from botocore.exceptions import ClientError

    if isinstance(error, NotTheServiceAnswer):
        return _one_line(f"NotTheServiceAnswer: {error}")
    if isinstance(error, UnicodeDecodeError):
        return ("NotTheServiceAnswer: the endpoint answered bytes that are not UTF-8 text "
                f"(byte {error.start})")
    if isinstance(error, ClientError):
        details = error.response.get("Error") or {}
        code = str(details.get("Code") or "ClientError")
        if code.isdigit():  # an HTTP status without an AWS error: not the AWS API answering
            return (f"HTTP {code}: the endpoint answered {error.operation_name} without an AWS "
                    "error (an emulator or proxy that does not implement it?)")
        return _one_line(f"{code}: {details.get('Message') or error}")
    if isinstance(error, NotImplementedError):  # moto: "The X action has not been implemented"
        return _one_line(f"NotImplemented: {error}")
    if type(error).__name__ == "ResponseParserError":  # an XML API answered with something else
        return _one_line(f"ResponseParserError: {str(error).splitlines()[0]}")
    if _raised_by_the_parser(error):  # botocore could not read the answer as the service's
        return _one_line(f"NotTheServiceAnswer: botocore cannot parse the answer "
                         f"({type(error).__name__}: {error})")
    return None


def _raised_by_the_parser(error: Exception) -> bool:
    """Whether ``error`` comes from botocore's response parsers: a body of another shape than
    the service's (botocore raises KeyError, AttributeError... there, not a parser error)."""
    traceback = error.__traceback__
    while traceback is not None:
        path = traceback.tb_frame.f_code.co_filename.replace("\\", "/")
        if path.endswith("botocore/parsers.py"):
            return True
        traceback = traceback.tb_next
    return False


def _error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str((response.get("Error") or {}).get("Code") or "")


# --- Small helpers ---------------------------------------------------------------------------


def _chunks(values: list[str], size: int = FILTER_CHUNK) -> list[list[str]]:
    return [values[start:start + size] for start in range(0, len(values), size)]


def _filtered(name: str, values: list[str]) -> list[Request]:
    """Requests with a filter: unknown values match nothing instead of failing the call."""
    return [{"Filters": [{"Name": name, "Values": chunk}]} for chunk in _chunks(values)]


def _by_ids(parameter: str, ids: list[str]) -> list[Request]:
    return [{parameter: chunk} for chunk in _chunks(ids)]


def _union(*groups: Iterable[str]) -> list[str]:
    return sorted({value for group in groups for value in group if value})


def _ids(items: list[dict] | None, key: str) -> list[str]:
    return [item[key] for item in items or [] if item.get(key)]


def _instance_ids_of(raw: RawRegion) -> list[str]:
    """The instances found in the region (in scope)."""
    answer = raw.answers.get(api_calls.INSTANCES.kind) or {}
    return _union(instance.get("InstanceId", "") for reservation in answer.get("Reservations", [])
                  for instance in reservation.get("Instances") or [])


def _vpc_ids_of(reservations: list[dict]) -> list[str]:
    instances = [instance for reservation in reservations
                 for instance in reservation.get("Instances") or []]
    interfaces = [eni for instance in instances for eni in instance.get("NetworkInterfaces") or []]
    return _union(_ids(instances, "VpcId"), _ids(interfaces, "VpcId"))


def _referenced_prefix_lists(raw: RawRegion) -> list[str]:
    """Prefix lists named by security group rules or route destinations read so far."""
    groups = (raw.answers.get(api_calls.SECURITY_GROUPS.kind) or {}).get("SecurityGroups", [])
    permissions = [permission for group in groups
                   for key in ("IpPermissions", "IpPermissionsEgress")
                   for permission in group.get(key) or []]
    tables = (raw.answers.get(api_calls.ROUTE_TABLES.kind) or {}).get("RouteTables", [])
    routes = [route for table in tables for route in table.get("Routes") or []]
    lists = (raw.answers.get(api_calls.PREFIX_LISTS.kind) or {}).get("PrefixLists", [])
    s3_list = aws_facts.endpoint_service_name(raw.region, "s3")  # where S3's addresses are
    return _union(
        (ref.get("PrefixListId", "") for p in permissions for ref in p.get("PrefixListIds") or []),
        _ids(routes, "DestinationPrefixListId"),
        (pl.get("PrefixListId", "") for pl in lists if pl.get("PrefixListName") == s3_list),
    )


def _answer(response: dict) -> dict:
    """A single response as the CLI prints it."""
    return _plain({key: value for key, value in response.items()
                   if key not in ("ResponseMetadata", "NextToken")})


def _plain(value: Any) -> Any:
    """JSON-ready data: timestamps become ISO 8601 text, as the AWS CLI prints them."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return value


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _one_line(error: object) -> str:
    return " ".join(str(error).split())


# --- For the organization reader (auditor/sources/organization), which reads the same way ----

Reader = _Reader
open_session = _open_session
answer_of = _answer
refusal = _refusal
error_code = _error_code
one_line = _one_line
count_text = _count
