"""Session Manager preferences and what they name, in templates: the raw answers of
``sources.live_session`` for the resources a template creates.

- ``AWS::SSM::Document`` of type ``Session`` named ``SSM-SessionManagerRunShell``: the region's
  preferences (another Session document is not the default one, and is not read);
- ``AWS::KMS::Key`` (its ``KeyPolicy``, else AWS's default policy; ``Enabled``) and
  ``AWS::KMS::Alias``;
- ``AWS::S3::Bucket`` (``BucketEncryption``, else SSE-S3 as AWS applies to every new bucket)
  and ``AWS::S3::BucketPolicy``;
- ``AWS::Logs::LogGroup`` (``KmsKeyId``).

A value known only at deployment leaves what depends on it unknown: preferences whose content
cannot be resolved are unreadable (so sessions are unknown), never assumed empty.
"""

from __future__ import annotations

import json
from typing import Any

from auditor.capability_facts import SESSION_DOCUMENT, SESSION_DOCUMENT_TYPE, partition
from auditor.sources import api_calls
from auditor.sources.template.context import Reader, Translation


def document(t: Translation, reader: Reader) -> None:
    if reader.value("DocumentType") != SESSION_DOCUMENT_TYPE \
            or reader.value("Name") != SESSION_DOCUMENT:
        return
    kind = api_calls.SESSION_DOCUMENT.kind
    content = reader.value("Content", required=True)
    if content is None:
        t.errors[kind] = (f"{reader.logical_id}.Content ({SESSION_DOCUMENT}) is not known "
                          "before deployment")
        return
    if t.writes(kind):
        t.answers[kind] = {"Name": SESSION_DOCUMENT, "DocumentType": SESSION_DOCUMENT_TYPE,
                           "DocumentFormat": reader.value("DocumentFormat", "JSON") or "JSON",
                           "Content": content if isinstance(content, str)
                           else json.dumps(content)}


_ABSENT = object()  # reader.value's default: absent, as opposed to None, not known yet


def _not_known(reader: Reader, name: str) -> str:
    return f"{reader.logical_id}.{name} is not known before deployment"


def kms_key(t: Translation, reader: Reader) -> None:
    key_id = reader.resource_id
    arn = key_arn(t, key_id)
    enabled = reader.value("Enabled", True)
    policy = reader.value("KeyPolicy", _ABSENT)
    if enabled is None:  # whether the key can be used at all is not known
        for name in (key_id, arn):
            _put(t, api_calls.KMS_KEYS, "KeyId", {"KeyId": name,
                                                  "Error": _not_known(reader, "Enabled")})
    else:
        metadata = {"KeyId": key_id, "Arn": arn, "AWSAccountId": t.account_id,
                    "KeyState": "Disabled" if str(enabled).lower() == "false" else "Enabled",
                    "KeyManager": "CUSTOMER", "KeyUsage": "ENCRYPT_DECRYPT"}
        _put(t, api_calls.KMS_KEYS, "KeyId", {"KeyId": key_id, "KeyMetadata": metadata})
        _put(t, api_calls.KMS_KEYS, "KeyId", {"KeyId": arn, "KeyMetadata": metadata})
    if policy is None:  # who may use the key is not known
        _put(t, api_calls.KMS_KEY_POLICIES, "KeyId", {"KeyId": arn, "Error": _not_known(
            reader, "KeyPolicy")})
    else:
        if policy is _ABSENT:  # what CloudFormation gives a key without one
            policy = {"Version": "2012-10-17", "Statement": [
                {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                 "Principal": {"AWS": f"arn:{partition(t.region)}:iam::{t.account_id}:root"},
                 "Action": "kms:*", "Resource": "*"}]}
        _put(t, api_calls.KMS_KEY_POLICIES, "KeyId", {"KeyId": arn, "PolicyName": "default",
                                                     "Policy": json.dumps(policy)})
    _put(t, api_calls.KMS_GRANTS, "KeyId", {"KeyId": arn, "Grants": []})


def kms_alias(t: Translation, reader: Reader) -> None:
    name, target = reader.value("AliasName", required=True), reader.value("TargetKeyId",
                                                                          required=True)
    if not isinstance(name, str) or not isinstance(target, str):
        return
    found = next((answer for answer in t.answers.get(api_calls.KMS_KEYS.kind) or []
                  if answer.get("KeyId") == target
                  and (answer.get("KeyMetadata") or answer.get("Error"))), None)
    if found is not None:  # the alias names what the key is, or that it is not known
        _put(t, api_calls.KMS_KEYS, "KeyId", {**found, "KeyId": name})


def bucket(t: Translation, reader: Reader) -> None:
    name = reader.resource_id
    encryption = reader.value("BucketEncryption", _ABSENT)
    _put(t, api_calls.BUCKET_LOCATIONS, "Bucket", {
        "Bucket": name, "LocationConstraint": None if t.region == "us-east-1" else t.region})
    _put(t, api_calls.BUCKET_POLICIES, "Bucket", {"Bucket": name, "Policy": None})
    if encryption is None:  # whether uploads need a KMS key is not known
        _put(t, api_calls.BUCKET_ENCRYPTION, "Bucket", {
            "Bucket": name, "Error": _not_known(reader, "BucketEncryption")})
        return
    rules = ((encryption if encryption is not _ABSENT else {}).get(
        "ServerSideEncryptionConfiguration")
        or [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}])
    default = rules[0].get("ServerSideEncryptionByDefault") or {}
    _put(t, api_calls.BUCKET_ENCRYPTION, "Bucket", {
        "Bucket": name, "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": default}]}})


def bucket_policy(t: Translation, reader: Reader) -> None:
    name, policy = reader.value("Bucket", required=True), reader.value("PolicyDocument",
                                                                       required=True)
    if not isinstance(name, str):
        return
    if policy is None:  # unknown: the writes cannot be proved against it
        _put(t, api_calls.BUCKET_POLICIES, "Bucket", {
            "Bucket": name, "Error": f"{reader.logical_id}.PolicyDocument is not known before "
                                     "deployment"})
        return
    _put(t, api_calls.BUCKET_POLICIES, "Bucket", {"Bucket": name, "Policy": json.dumps(policy)})


def log_group(t: Translation, reader: Reader) -> None:
    name = reader.resource_id
    key = reader.value("KmsKeyId", _ABSENT)
    if key is None:  # whether the group is encrypted is not known
        _put(t, api_calls.LOG_GROUPS, "logGroupNamePrefix", {
            "logGroupNamePrefix": name, "Error": _not_known(reader, "KmsKeyId")})
        return
    group: dict[str, Any] = {"logGroupName": name, "logGroupArn": log_group_arn(t, name)}
    if key is not _ABSENT and key:
        group["kmsKeyId"] = key
    _put(t, api_calls.LOG_GROUPS, "logGroupNamePrefix", {"logGroupNamePrefix": name,
                                                          "logGroups": [group]})


# The handlers (resources first; those that name them after), and the ARNs Fn::GetAtt gives.
RESOURCES = {"AWS::SSM::Document": document, "AWS::KMS::Key": kms_key,
             "AWS::S3::Bucket": bucket, "AWS::Logs::LogGroup": log_group}
REFERRING = {"AWS::KMS::Alias": kms_alias, "AWS::S3::BucketPolicy": bucket_policy}
# Resources whose Ref is a name, and the property that gives it.
NAME_PROPERTIES = {"AWS::S3::Bucket": "BucketName", "AWS::Logs::LogGroup": "LogGroupName"}


def get_att(t: Translation, kind: str, own: str, attribute: str) -> str | None:
    """``Fn::GetAtt X.Arn`` of a key, bucket or log group (and a key's KeyId); else None."""
    if kind == "AWS::KMS::Key":
        return {"Arn": key_arn(t, own), "KeyId": own}.get(attribute)
    if attribute != "Arn":
        return None
    if kind == "AWS::S3::Bucket":
        return f"arn:{partition(t.region)}:s3:::{own}"
    if kind == "AWS::Logs::LogGroup":
        return f"{log_group_arn(t, own)}:*"  # what CloudFormation returns, with ":*"
    return None


def key_arn(t: Translation, key_id: str) -> str:
    return f"arn:{partition(t.region)}:kms:{t.region}:{t.account_id}:key/{key_id}"


def log_group_arn(t: Translation, name: str) -> str:
    return f"arn:{partition(t.region)}:logs:{t.region}:{t.account_id}:log-group:{name}"


def _put(t: Translation, call: api_calls.ApiCall, id_key: str, answer: dict) -> None:
    """One per-resource answer, replacing one for the same resource (the base's list is
    copied, never changed)."""
    if not t.writes(call.kind):
        return
    kept = [item for item in t.answers.get(call.kind) or []
            if item.get(id_key) != answer[id_key]]
    t.answers[call.kind] = [*kept, answer]


def gateway_endpoint(t: Translation, reader: Reader, vpc_id: str, service: str) -> None:
    """An S3 (or DynamoDB) gateway endpoint: the endpoint, and the route to the service's
    prefix list it adds to each of its route tables (what S3's path follows)."""
    tables = reader.value("RouteTableIds", [])
    policy = reader.value("PolicyDocument")
    if tables is None:  # unknown tables: the resource is marked unresolved
        return
    endpoint: dict[str, Any] = {
        "VpcEndpointId": reader.resource_id, "VpcEndpointType": "Gateway", "VpcId": vpc_id,
        "ServiceName": service, "State": "available", "PrivateDnsEnabled": False,
        "RouteTableIds": list(tables), "SubnetIds": [], "Groups": [],
        "NetworkInterfaceIds": [], "OwnerId": t.account_id}
    if policy is not None:
        endpoint["PolicyDocument"] = policy if isinstance(policy, str) else json.dumps(policy)
    t.add("vpc_endpoints", endpoint, reader.resource_id)
    listed = [*t.prefix_lists, *((t.answers.get("prefix_lists") or {}).get("PrefixLists") or [])]
    prefix_list = next((pl["PrefixListId"] for pl in listed
                        if pl.get("PrefixListName") == service), f"pl-{service}")
    for table_id in tables:
        table = t.mutable("route_tables", table_id)
        if table is None:
            reader.fail(f"{reader.logical_id}: route table {table_id} "
                        f"{t.why_missing('route_tables', table_id)}")
            continue
        table["Routes"] = [*table["Routes"], {"DestinationPrefixListId": prefix_list,
                                              "GatewayId": reader.resource_id,
                                              "State": "active", "Origin": "CreateRoute"}]
