"""Raw answers about Session Manager preferences and what they name -> ``Estate.session``.

The preferences document's content is JSON or YAML (AWS keeps either); a content that is
neither makes the preferences unknown (``Estate.unavailable``), not the whole audit fail. A
per-resource answer that carries ``Error`` (AWS refused that one resource) leaves that resource
unknown; ``null`` bodies mean AWS said it does not exist (see ``live_session``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import yaml

from auditor.capability_facts import SESSION_DOCUMENT, SESSION_DOCUMENT_TYPE
from auditor.model import (
    Estate,
    IamGroup,
    IamUser,
    KmsGrant,
    KmsKey,
    LogGroup,
    S3Bucket,
    SessionPreferences,
)
from auditor.sources import api_calls
from auditor.sources.parse import Scope, _answer_list, _document, _items, _tags

_TRUE = ("true", "yes")
_FALSE = ("false", "no", "")
# GetBucketLocation's LocationConstraint: null or "" is us-east-1, "EU" the old eu-west-1 name.
_LEGACY_LOCATIONS = {"": "us-east-1", "EU": "eu-west-1"}


def preference_inputs(document: dict) -> dict[str, Any]:
    """The ``inputs`` of a GetDocument answer ({} without a document); ValueError when the
    content is neither JSON nor YAML or holds no object."""
    content = document.get("Content") if isinstance(document, dict) else None
    if content is None or content == "":
        return {}
    parsed: Any = content
    if isinstance(content, str):
        try:
            parsed = json.loads(content)
        except ValueError:
            try:
                parsed = yaml.safe_load(content)
            except yaml.YAMLError as error:
                raise ValueError(f"the content of {SESSION_DOCUMENT} is neither JSON nor "
                                 f"YAML ({' '.join(str(error).split())[:120]})") from None
    if not isinstance(parsed, dict):
        raise ValueError(f"the content of {SESSION_DOCUMENT} is not an object")
    inputs = parsed.get("inputs") or {}
    if not isinstance(inputs, dict):
        raise ValueError(f"the inputs of {SESSION_DOCUMENT} are not an object")
    return inputs


def bucket_keys(encryption_answers: Iterable[dict]) -> list[str]:
    """The KMS keys buckets' default encryption names (SSE-KMS with a named key)."""
    keys: list[str] = []
    for answer in encryption_answers:
        rules = ((answer.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or [])
        for rule in rules:
            default = rule.get("ApplyServerSideEncryptionByDefault") or {}
            key = default.get("KMSMasterKeyID")
            if key and key not in keys:
                keys.append(key)
    return keys


def _flag(inputs: dict, name: str) -> bool:
    value = inputs.get(name, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{name} of {SESSION_DOCUMENT} is {value!r}, not true or false")


def _text(inputs: dict, name: str) -> str:
    value = inputs.get(name) or ""
    if not isinstance(value, str):
        raise ValueError(f"{name} of {SESSION_DOCUMENT} is not text")
    return value.strip()


def _parse_document(estate: Estate, answer: Any, scope: Scope) -> None:
    if not isinstance(answer, dict) or "Content" not in answer:
        raise TypeError('expected {"Name": ..., "Content": ...} (Content null: no document)')
    if answer["Content"] is None:
        estate.session.preferences = SessionPreferences(exists=False)
        return
    kind = answer.get("DocumentType")
    try:
        if kind and kind != SESSION_DOCUMENT_TYPE:
            raise ValueError(f"{SESSION_DOCUMENT} is a {kind} document, not a Session one")
        inputs = preference_inputs(answer)
        estate.session.preferences = SessionPreferences(
            exists=True,
            kms_key_id=_text(inputs, "kmsKeyId"),
            s3_bucket=_text(inputs, "s3BucketName"),
            s3_key_prefix=_text(inputs, "s3KeyPrefix"),
            s3_encryption=_flag(inputs, "s3EncryptionEnabled"),
            log_group=_text(inputs, "cloudWatchLogGroupName"),
            log_group_encryption=_flag(inputs, "cloudWatchEncryptionEnabled"),
            log_streaming=_flag(inputs, "cloudWatchStreamingEnabled"),
            run_as_enabled=_flag(inputs, "runAsEnabled"),
            run_as_default_user=_text(inputs, "runAsDefaultUser"),
        )
    except ValueError as error:
        estate.unavailable[api_calls.SESSION_DOCUMENT.kind] = str(error)


def _per_resource(answer: Any, what: str, id_key: str) -> list[dict]:
    items = _answer_list(answer, what)
    for item in items:
        if not isinstance(item.get(id_key), str):
            raise TypeError(f"an answer without {id_key}")
    return items


def _keys(estate: Estate, reference: str) -> list[KmsKey]:
    """Every name of the key ``reference`` names (its ARN, its alias, its id): the policy and
    grants, read by ARN, belong to each."""
    keys = estate.session.keys
    named = keys.get(reference)
    arn = named.arn if named is not None and named.arn else reference
    found = [key for key in keys.values() if key is named or (arn and key.arn == arn)]
    if not found:
        keys[reference] = KmsKey(reference, exists=None,
                                 unread=f"{reference} is not in describe-key.json")
        found = [keys[reference]]
    return found


def _parse_keys(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "describe-key", "KeyId"):
        reference = item["KeyId"]
        if "Error" in item:
            estate.session.keys[reference] = KmsKey(reference, exists=None,
                                                    unread=str(item["Error"]))
            continue
        metadata = item.get("KeyMetadata")
        if metadata is None:
            estate.session.keys[reference] = KmsKey(reference, exists=False)
            continue
        estate.session.keys[reference] = KmsKey(
            reference, arn=metadata["Arn"], state=str(metadata.get("KeyState") or ""),
            manager=str(metadata.get("KeyManager") or ""))


def _parse_key_policies(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "get-key-policy", "KeyId"):
        policy = None if "Error" in item else _document(
            item.get("Policy"), f"the key policy of {item['KeyId']}")
        for key in _keys(estate, item["KeyId"]):
            if "Error" in item:
                key.unread = f"key policy: {item['Error']}"
            else:
                key.policy = policy


def _parse_grants(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "list-grants", "KeyId"):
        grants = None if "Error" in item else [
            KmsGrant(str(grant.get("GranteePrincipal") or ""),
                     tuple(grant.get("Operations") or ()), bool(grant.get("Constraints")))
            for grant in _items(item, "Grants")]
        for key in _keys(estate, item["KeyId"]):
            if grants is None:
                key.unread = f"grants: {item['Error']}"
            else:
                key.grants = grants


def _bucket(estate: Estate, name: str) -> S3Bucket:
    return estate.session.buckets.setdefault(name, S3Bucket(name))


def _parse_bucket_locations(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "get-bucket-location", "Bucket"):
        bucket = _bucket(estate, item["Bucket"])
        if "Error" in item:
            bucket.exists, bucket.unread = None, f"location: {item['Error']}"
        elif item.get("Exists") is False:
            bucket.exists = False
        else:
            location = item.get("LocationConstraint") or ""
            bucket.region = _LEGACY_LOCATIONS.get(location, location)


def _parse_bucket_policies(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "get-bucket-policy", "Bucket"):
        bucket = _bucket(estate, item["Bucket"])
        if "Error" in item:
            bucket.policy_read, bucket.unread = False, f"policy: {item['Error']}"
            continue
        bucket.policy = _document(item.get("Policy"), f"the policy of bucket {item['Bucket']}")


def _parse_bucket_encryption(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "get-bucket-encryption", "Bucket"):
        bucket = _bucket(estate, item["Bucket"])
        if "Error" in item:
            bucket.encryption_read, bucket.unread = False, f"encryption: {item['Error']}"
            continue
        rules = (item.get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
        default = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
        bucket.encryption = default.get("SSEAlgorithm") or None
        bucket.encryption_key = str(default.get("KMSMasterKeyID") or "")


def _parse_log_groups(estate: Estate, answer: Any, scope: Scope) -> None:
    for item in _per_resource(answer, "describe-log-groups", "logGroupNamePrefix"):
        name = item["logGroupNamePrefix"]
        if "Error" in item:
            estate.session.log_groups[name] = LogGroup(name, exists=None, unread=item["Error"])
            continue
        found = next((group for group in _items(item, "logGroups")
                      if group.get("logGroupName") == name), None)
        if found is None:
            estate.session.log_groups[name] = LogGroup(name, exists=False)
            continue
        arn = str(found.get("logGroupArn") or found.get("arn") or "").removesuffix(":*")
        estate.session.log_groups[name] = LogGroup(name, True, arn=arn,
                                                   kms_key_id=str(found.get("kmsKeyId") or ""))


def _parse_principals(estate: Estate, answer: Any, scope: Scope) -> None:
    """Users and groups with their inline and attached policies (UserDetailList,
    GroupDetailList of GetAccountAuthorizationDetails)."""
    users: dict[str, IamUser] = {}
    for raw in _items(answer, "UserDetailList"):
        name = raw["UserName"]
        users[name] = IamUser(
            name, raw["Arn"],
            inline_policies={policy["PolicyName"]: _document(
                policy["PolicyDocument"], f"inline policy {policy['PolicyName']} of user {name}")
                for policy in raw.get("UserPolicyList") or []},
            attached_policy_arns=[attached["PolicyArn"]
                                  for attached in raw.get("AttachedManagedPolicies") or []],
            group_names=list(raw.get("GroupList") or []),
            permissions_boundary_arn=(raw.get("PermissionsBoundary") or {}).get(
                "PermissionsBoundaryArn"),
            tags=_tags(raw))
    groups: dict[str, IamGroup] = {}
    for raw in _items(answer, "GroupDetailList"):
        name = raw["GroupName"]
        groups[name] = IamGroup(
            name, raw["Arn"],
            inline_policies={policy["PolicyName"]: _document(
                policy["PolicyDocument"], f"inline policy {policy['PolicyName']} of group "
                                          f"{name}")
                for policy in raw.get("GroupPolicyList") or []},
            attached_policy_arns=[attached["PolicyArn"]
                                  for attached in raw.get("AttachedManagedPolicies") or []])
    estate.session.users, estate.session.groups = users, groups


PARSERS: tuple[tuple[api_calls.ApiCall, Callable[[Estate, Any, Scope], None]], ...] = (
    (api_calls.SESSION_DOCUMENT, _parse_document),
    (api_calls.KMS_KEYS, _parse_keys),
    (api_calls.KMS_KEY_POLICIES, _parse_key_policies),
    (api_calls.KMS_GRANTS, _parse_grants),
    (api_calls.BUCKET_LOCATIONS, _parse_bucket_locations),
    (api_calls.BUCKET_POLICIES, _parse_bucket_policies),
    (api_calls.BUCKET_ENCRYPTION, _parse_bucket_encryption),
    (api_calls.LOG_GROUPS, _parse_log_groups),
    (api_calls.IAM_PRINCIPALS, _parse_principals),
)
