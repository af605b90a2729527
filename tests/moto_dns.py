"""What moto lacks of the DNS reads, answered by a fake the tests fill.

moto 5.2.1 implements what the auditor reads of Route 53 (private hosted zones with their VPC
associations, ListHostedZonesByVPC, record sets) and of Route 53 Resolver's rules (Resolver
rules and their associations). It does not implement Resolver DNS Firewall
(ListFirewallRuleGroupAssociations, ListFirewallRules, ListFirewallDomainLists,
ListFirewallDomains: in-process moto raises NotImplementedError, a moto server answers HTTP 500)
nor Route 53 Profiles (a service moto does not know at all).

``FakeDnsServices`` holds firewall rule groups, domain lists and profiles as AWS would answer
them; ``install`` answers those six operations from it for every boto3 session opened from then
on, client side (a ``before-call`` handler returns the answer in place of the endpoint), so the
same fake serves in-process ``mock_aws`` and a ``ThreadedMotoServer`` alike. The ``fake_aws``
fixture installs an empty one for every moto test: no firewall and no profile, which is what an
account where none was created answers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeDnsServices:
    region: str = "us-east-1"
    account: str = "123456789012"
    associations: list[dict] = field(default_factory=list)  # firewall rule group associations
    rules: dict[str, list[dict]] = field(default_factory=dict)  # rule group id -> rules
    domain_lists: list[dict] = field(default_factory=list)
    domains: dict[str, list[str]] = field(default_factory=dict)  # list id -> domains
    profile_associations: list[dict] = field(default_factory=list)
    profile_resources: dict[str, list[dict]] = field(default_factory=dict)  # profile id -> ...
    requests: list[tuple[str, dict]] = field(default_factory=list)  # (operation, parameters)
    denied: set[str] = field(default_factory=set)  # operations answered AccessDeniedException
    _count: int = 0

    def _id(self, prefix: str) -> str:
        self._count += 1
        return f"{prefix}{self._count:017x}"

    def domain_list(self, domains: Sequence[str] | None, managed_owner: str = "") -> str:
        from builders.estate_builder import domain_list_entry

        list_id = self._id("rslvr-fdl-")
        self.domain_lists.append(domain_list_entry(list_id, f"list-{self._count}", self.region,
                                                   self.account, managed_owner))
        if domains is not None:
            self.domains[list_id] = list(domains)
        return list_id

    def rule_group(self, vpc_ids: Sequence[str], rules: Sequence[dict],
                   priority: int = 101) -> str:
        group_id = self._id("rslvr-frg-")
        self.rules[group_id] = [{"FirewallRuleGroupId": group_id, "Name": f"rule-{n}", **rule}
                                for n, rule in enumerate(rules)]
        for vpc_id in vpc_ids:
            self.associations.append({"Id": self._id("rslvr-frgassoc-"),
                                      "FirewallRuleGroupId": group_id, "VpcId": vpc_id,
                                      "Priority": priority, "Status": "COMPLETE",
                                      "MutationProtection": "DISABLED", "Name": ""})
        return group_id

    def profile(self, vpc_ids: Sequence[str], resource_arns: Sequence[str]) -> str:
        profile_id = self._id("rp-")
        self.profile_associations += [{"Id": self._id("rpassoc-"), "ProfileId": profile_id,
                                       "ResourceId": vpc_id, "Status": "COMPLETE",
                                       "OwnerId": self.account, "Name": ""}
                                      for vpc_id in vpc_ids]
        self.profile_resources[profile_id] = [
            {"Id": self._id("rpr-"), "ProfileId": profile_id, "ResourceArn": arn,
             "ResourceType": arn.split(":", 5)[-1].split("/", 1)[0], "Status": "COMPLETE",
             "OwnerId": self.account, "Name": arn.rsplit("/", 1)[-1]} for arn in resource_arns]
        return profile_id

    # --- answers ---------------------------------------------------------------------------

    def answer(self, operation: str, params: dict) -> dict:
        self.requests.append((operation, params))
        if operation == "ListFirewallRuleGroupAssociations":
            return {"FirewallRuleGroupAssociations": [
                a for a in self.associations
                if not params.get("VpcId") or a["VpcId"] == params["VpcId"]]}
        if operation == "ListFirewallRules":
            return {"FirewallRules": list(self.rules.get(params["FirewallRuleGroupId"], []))}
        if operation == "ListFirewallDomainLists":
            return {"FirewallDomainLists": list(self.domain_lists)}
        if operation == "ListFirewallDomains":
            return {"Domains": list(self.domains.get(params["FirewallDomainListId"], []))}
        if operation == "ListProfileAssociations":
            return {"ProfileAssociations": list(self.profile_associations)}
        if operation == "ListProfileResourceAssociations":
            return {"ProfileResourceAssociations": list(
                self.profile_resources.get(params["ProfileId"], []))}
        raise AssertionError(f"not faked: {operation}")


FAKED = ("route53resolver.ListFirewallRuleGroupAssociations",
         "route53resolver.ListFirewallRules", "route53resolver.ListFirewallDomainLists",
         "route53resolver.ListFirewallDomains", "route53profiles.ListProfileAssociations",
         "route53profiles.ListProfileResourceAssociations")


def _parameters(params: dict) -> dict:
    """The request's parameters: a JSON body (route53resolver) or the URL (route53profiles)."""
    body = params.get("body") or b""
    found: dict[str, Any] = json.loads(body) if body and body[:1] in (b"{", "{") else {}
    query = params.get("query_string") or {}
    if isinstance(query, dict):
        found.update(query)
    url = str(params.get("url_path") or "")
    found.update({key: values[0] for key, values in parse_qs(urlsplit(url).query).items()})
    if "/profileid/" in url:
        found["ProfileId"] = url.split("/profileid/", 1)[1].split("?", 1)[0].split("/", 1)[0]
    return found


class _Current:
    """The fake the installed handlers answer from: a later ``install`` swaps it."""

    fake: FakeDnsServices | None = None


def install(monkeypatch: Any, fake: FakeDnsServices) -> FakeDnsServices:
    """Answer the DNS Firewall and Route 53 Profiles reads from ``fake`` in every boto3
    session opened from now on (``monkeypatch`` undoes it); installing again swaps the fake."""
    import boto3
    from botocore.awsrequest import AWSResponse

    monkeypatch.setattr(_Current, "fake", fake)
    if getattr(boto3.Session, "answers_dns", False):
        return fake

    def handler(event_name: str) -> Callable[..., tuple[AWSResponse, dict]]:
        operation = event_name.rsplit(".", 1)[-1]

        def answer(params: dict, **_kwargs: Any) -> tuple[AWSResponse, dict]:
            assert _Current.fake is not None
            if operation in _Current.fake.denied:
                return AWSResponse("https://dns.test", 400, {}, None), {
                    "Error": {"Code": "AccessDeniedException",
                              "Message": f"not authorized to perform {operation}"},
                    "ResponseMetadata": {"HTTPStatusCode": 400}}
            parsed = _Current.fake.answer(operation, _parameters(params))
            parsed["ResponseMetadata"] = {"HTTPStatusCode": 200}
            return AWSResponse("https://dns.test", 200, {}, None), parsed
        return answer

    real_session = boto3.Session

    def session_with_fake(*args: Any, **kwargs: Any) -> Any:
        session = real_session(*args, **kwargs)
        for operation in FAKED:
            event = f"before-call.{operation}"
            session.events.register_first(event, handler(event))
        return session

    session_with_fake.answers_dns = True  # type: ignore[attr-defined]
    monkeypatch.setattr(boto3, "Session", session_with_fake)
    return fake
