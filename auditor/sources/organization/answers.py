"""The organization's own answers, read once per run, and each account's share of them.

``OrganizationAnswers`` holds the answers of ``api_calls.ORGANIZATION_WIDE_CALLS`` in the AWS
CLI's shape (per-resource ones as lists of answers, each with the id it was asked for). An
account's four Organizations answers (DescribeOrganization, ListParents from the account up to
the root, ListPoliciesForTarget of each level, DescribePolicy of each SCP on the way) are
derived from them in exactly the shape a single-account read stores, so the parser and the
analysis treat an organization's account like any other: its SCPs are known without the
account being allowed to read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from auditor.aws_facts import ACCOUNT_ACTIVE
from auditor.sources import api_calls

_DERIVED = (api_calls.ORGANIZATION_PARENTS, api_calls.SCP_ATTACHMENTS, api_calls.SCP_DOCUMENTS)


@dataclass
class OrganizationAnswers:
    """``answers``/``errors`` by kind, as a ``RawRegion`` keeps them; ``caller_account_id``:
    the account whose credentials read them (audited with those credentials)."""

    answers: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    caller_account_id: str = ""

    # --- What the organization is ---------------------------------------------------------

    @property
    def organization(self) -> dict | None:
        answer = self.answers.get(api_calls.ORGANIZATION.kind)
        return (answer or {}).get("Organization") if isinstance(answer, dict) else None

    @property
    def organization_id(self) -> str:
        return str((self.organization or {}).get("Id") or "")

    @property
    def management_account_id(self) -> str:
        return str((self.organization or {}).get("MasterAccountId") or "")

    def account_states(self) -> dict[str, str]:
        """Every account ListAccounts names, with its state (``State``, else ``Status``)."""
        answer = self.answers.get(api_calls.ORGANIZATION_ACCOUNTS.kind) or {}
        return {str(account["Id"]): str(account.get("State") or account.get("Status") or "")
                for account in answer.get(api_calls.ORGANIZATION_ACCOUNTS.result_key) or []
                if account.get("Id")}

    def active_accounts(self) -> list[str]:
        return sorted(account for account, state in self.account_states().items()
                      if state == ACCOUNT_ACTIVE)

    def describe(self) -> dict[str, Any]:
        """The report's ``source.organization``."""
        return {"id": self.organization_id or None,
                "management_account_id": self.management_account_id or None,
                "caller_account_id": self.caller_account_id or None,
                "active_accounts": len(self.active_accounts()),
                "unavailable": dict(self.errors) or None}

    # --- One account's share ----------------------------------------------------------------

    def account_answers(self, account_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """The four Organizations kinds of ``account_id`` (answers, errors), as a
        single-account read of that account stores them."""
        answers: dict[str, Any] = {}
        errors: dict[str, str] = {}
        organization = api_calls.ORGANIZATION.kind
        if organization in self.errors or organization not in self.answers:
            reason = self.errors.get(organization, "the organization was not described")
            errors[organization] = reason
            errors.update((call.kind, f"not read: {reason}") for call in _DERIVED)
            return answers, errors
        answers[organization] = self.answers[organization]
        parents, reason = self._parents(account_id)
        if parents is None:
            errors.update((call.kind, reason) for call in _DERIVED)
            return answers, errors
        answers[api_calls.ORGANIZATION_PARENTS.kind] = parents
        targets = [answer["ChildId"] for answer in parents] + [parents[-1]["Parents"][0]["Id"]]
        attached, reason = self._attachments(targets)
        if attached is None:
            errors.update((call.kind, reason) for call in _DERIVED[1:])
            return answers, errors
        answers[api_calls.SCP_ATTACHMENTS.kind] = attached
        wanted = list(dict.fromkeys(policy["Id"] for answer in attached
                                    for policy in answer["Policies"]))
        documents = self._documents()
        missing = [policy_id for policy_id in wanted if policy_id not in documents]
        if api_calls.SCP_DOCUMENTS.kind in self.errors or missing:
            errors[api_calls.SCP_DOCUMENTS.kind] = self.errors.get(
                api_calls.SCP_DOCUMENTS.kind,
                f"{api_calls.SCP_DOCUMENTS.file_name} lacks policy {(missing or ['?'])[0]}")
            return answers, errors
        answers[api_calls.SCP_DOCUMENTS.kind] = [documents[policy_id] for policy_id in wanted]
        return answers, errors

    def _parents(self, account_id: str) -> tuple[list[dict] | None, str]:
        """ListParents' answers from the account up to the root, from the tree read top-down."""
        for call in (api_calls.ORGANIZATION_ROOTS, api_calls.ORGANIZATION_UNITS,
                     api_calls.ORGANIZATION_CHILD_ACCOUNTS):
            if call.kind in self.errors or call.kind not in self.answers:
                return None, (f"not read: {call.kind}: "
                              f"{self.errors.get(call.kind, 'not captured')}")
        parent_of: dict[str, dict] = {}
        roots = self.answers[api_calls.ORGANIZATION_ROOTS.kind].get("Roots") or []
        for root in roots:
            parent_of.setdefault(root["Id"], {})
        for answer in self.answers[api_calls.ORGANIZATION_UNITS.kind]:
            for unit in answer.get("OrganizationalUnits") or []:
                parent_of[unit["Id"]] = _parent(answer["ParentId"])
        for answer in self.answers[api_calls.ORGANIZATION_CHILD_ACCOUNTS.kind]:
            for account in answer.get("Accounts") or []:
                parent_of[str(account["Id"])] = _parent(answer["ParentId"])
        if account_id not in parent_of:
            return None, f"account {account_id} is not in the organization's tree as read"
        chain: list[dict] = []
        child = account_id
        while parent_of.get(child):
            parent = parent_of[child]
            chain.append({"ChildId": child, "Parents": [parent]})
            if parent["Type"] == "ROOT" or len(chain) > 10:
                break
            child = parent["Id"]
        if not chain or chain[-1]["Parents"][0]["Type"] != "ROOT":
            return None, (f"the organization's tree as read does not lead from {account_id} "
                          "to a root")
        return chain, ""

    def _attachments(self, targets: list[str]) -> tuple[list[dict] | None, str]:
        """ListPoliciesForTarget's answers for each target, from ListTargetsForPolicy's."""
        for call in (api_calls.SCP_LIST, api_calls.SCP_TARGETS):
            if call.kind in self.errors or call.kind not in self.answers:
                return None, (f"not read: {call.kind}: "
                              f"{self.errors.get(call.kind, 'not captured')}")
        summaries = {policy["Id"]: policy for policy in
                     self.answers[api_calls.SCP_LIST.kind].get("Policies") or []}
        on_target: dict[str, list[dict]] = {target: [] for target in targets}
        for answer in self.answers[api_calls.SCP_TARGETS.kind]:
            summary = summaries.get(answer["PolicyId"])
            for target in answer.get("Targets") or []:
                if summary is not None and target.get("TargetId") in on_target:
                    on_target[target["TargetId"]].append(summary)
        return [{"TargetId": target, "Policies": on_target[target]} for target in targets], ""

    def _documents(self) -> dict[str, dict]:
        return {answer["Policy"]["PolicySummary"]["Id"]: answer
                for answer in self.answers.get(api_calls.SCP_DOCUMENTS.kind) or []}

    # --- Travel (a Step Functions run keeps them in S3 between its steps) --------------------

    def to_dict(self) -> dict[str, Any]:
        return {"answers": self.answers, "errors": self.errors,
                "caller_account_id": self.caller_account_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OrganizationAnswers:
        return cls(dict(data.get("answers") or {}), dict(data.get("errors") or {}),
                   str(data.get("caller_account_id") or ""))


def _parent(parent_id: str) -> dict[str, str]:
    return {"Id": parent_id, "Type": "ROOT" if parent_id.startswith("r-")
            else "ORGANIZATIONAL_UNIT"}
