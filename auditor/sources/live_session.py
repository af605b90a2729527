"""Read what Session Manager and patching need beyond the agent, read-only, batched.

Per region: the Session Manager preferences (``GetDocument`` of ``SSM-SessionManagerRunShell``,
one call; ``InvalidDocument`` means no preferences, stored as ``{"Name": ..., "Content": null}``),
then one call per KMS key, bucket and log group they name (``DescribeKey``, ``GetKeyPolicy``,
``ListGrants``; ``GetBucketLocation``, ``GetBucketPolicy``, ``GetBucketEncryption``;
``DescribeLogGroups`` with the group's name as prefix). A bucket's SSE-KMS key joins the keys.
Never one call per instance. Per account: users and groups, one bulk
``GetAccountAuthorizationDetails`` (for ``--operator`` and ``--operators``).

Each per-resource file is a list of answers, each naming its resource (``KeyId``, ``Bucket``,
``logGroupNamePrefix``). A resource AWS says does not exist is an answer whose body is null
(``"KeyMetadata": null``, ``"Exists": false``...); one AWS refuses to describe is an answer with
``"Error": "<Code>: <message>"``, so that one foreign bucket does not hide the others.
"""

from __future__ import annotations

from collections.abc import Callable

from auditor.capability_facts import KEY_POLICY_NAME, SESSION_DOCUMENT
from auditor.sources import api_calls
from auditor.sources.api_calls import ApiCall
from auditor.sources.live import Clients, Progress, _answer, _error_code, _Reader, _refusal
from auditor.sources.parse_session import bucket_keys, preference_inputs
from auditor.sources.raw import RawRegion

# AWS error codes that mean "this resource does not exist" (an answer, not a refusal).
_ABSENT = {
    api_calls.KMS_KEYS.kind: ("NotFoundException",),
    api_calls.BUCKET_LOCATIONS.kind: ("NoSuchBucket",),
    api_calls.BUCKET_POLICIES.kind: ("NoSuchBucketPolicy", "NoSuchBucket"),
    api_calls.BUCKET_ENCRYPTION.kind: ("ServerSideEncryptionConfigurationNotFoundError",
                                       "NoSuchBucket"),
}


def collect_session_targets(clients: Clients, raw: RawRegion, progress: Progress | None,
                            label: str | None = None) -> None:
    """The region's preferences and what they name, into ``raw``."""
    region = raw.region
    ssm = _Reader(clients("ssm", region), raw, progress, label)
    document = ssm.record(api_calls.SESSION_DOCUMENT, lambda: _read_document(ssm))
    rest = api_calls.SESSION_CALLS[1:-1]  # the per-resource kinds of the region
    if document is None:
        for call in rest:
            ssm.skip(call, f"not read: {api_calls.SESSION_DOCUMENT.kind} could not be read")
        return
    try:
        inputs = preference_inputs(document)
    except ValueError:
        inputs = {}  # the parser says why the preferences are unknown
    buckets = [inputs["s3BucketName"]] if inputs.get("s3BucketName") else []
    groups = [inputs["cloudWatchLogGroupName"]] if inputs.get("cloudWatchLogGroupName") else []
    keys = [inputs["kmsKeyId"]] if inputs.get("kmsKeyId") else []

    s3 = _Reader(clients("s3", region), raw, progress, label)
    _each(s3, api_calls.BUCKET_LOCATIONS, "Bucket", buckets,
          lambda b: s3.client.get_bucket_location(Bucket=b), {"Exists": False})
    _each(s3, api_calls.BUCKET_POLICIES, "Bucket", buckets,
          lambda b: s3.client.get_bucket_policy(Bucket=b), {"Policy": None})
    encryption = _each(s3, api_calls.BUCKET_ENCRYPTION, "Bucket", buckets,
                       lambda b: s3.client.get_bucket_encryption(Bucket=b),
                       {"ServerSideEncryptionConfiguration": None})
    keys += [key for key in bucket_keys(encryption or []) if key not in keys]

    kms = _Reader(clients("kms", region), raw, progress, label)
    described = _each(kms, api_calls.KMS_KEYS, "KeyId", keys,
                      lambda k: kms.client.describe_key(KeyId=k), {"KeyMetadata": None})
    found = list(dict.fromkeys(  # a key named twice (alias and ARN) is read once
        answer["KeyMetadata"]["Arn"] for answer in described or []
        if answer.get("KeyMetadata") and answer["KeyMetadata"].get("Arn")))
    if described is None:
        reason = f"not read: {api_calls.KMS_KEYS.kind} could not be read"
        kms.skip(api_calls.KMS_KEY_POLICIES, reason)
        kms.skip(api_calls.KMS_GRANTS, reason)
    else:
        _each(kms, api_calls.KMS_KEY_POLICIES, "KeyId", found,
              lambda k: kms.client.get_key_policy(KeyId=k, PolicyName=KEY_POLICY_NAME), {})
        _each(kms, api_calls.KMS_GRANTS, "KeyId", found, lambda k: _all_grants(kms, k), {})

    logs = _Reader(clients("logs", region), raw, progress, label)
    _each(logs, api_calls.LOG_GROUPS, "logGroupNamePrefix", groups,
          lambda g: logs.paged_answer(api_calls.LOG_GROUPS, {"logGroupNamePrefix": g},
                                      "logGroupNamePrefix"), {})


def collect_principals(reader: _Reader) -> None:
    """Users and groups of the account, with their policies: one bulk call."""
    call = api_calls.IAM_PRINCIPALS
    reader.record(call, lambda: reader.pages(call, [{"Filter": api_calls.IAM_PRINCIPALS_FILTER}],
                                             api_calls.IAM_PRINCIPALS_KEYS))


def _read_document(reader: _Reader) -> tuple[dict, str]:
    try:
        answer = reader.client.get_document(Name=SESSION_DOCUMENT, DocumentFormat="JSON")
    except Exception as error:
        if _error_code(error) != "InvalidDocument":
            raise
        return {"Name": SESSION_DOCUMENT, "Content": None}, "no preferences (InvalidDocument)"
    return _answer(answer), "1 call"


def _all_grants(reader: _Reader, key_arn: str) -> dict:
    grants: list[dict] = []
    for page in reader.client.get_paginator("list_grants").paginate(KeyId=key_arn):
        grants.extend(page.get("Grants") or [])
    return {"Grants": grants}


def _each(reader: _Reader, call: ApiCall, id_key: str, ids: list[str],
          fetch: Callable[[str], dict], absent: dict) -> list[dict] | None:
    """One call per resource; an absent resource is ``absent``, a refused one an ``Error``."""
    def one(resource_id: str) -> dict:
        try:
            answer = fetch(resource_id)
        except Exception as error:
            if _error_code(error) in _ABSENT.get(call.kind, ()):
                return {id_key: resource_id, **absent}
            reason = _refusal(error)
            if reason is None:
                raise
            return {id_key: resource_id, "Error": reason}
        body = _answer(answer)
        body.pop(id_key, None)
        return {id_key: resource_id, **body}

    return reader.record(call, lambda: (
        [one(resource_id) for resource_id in ids],
        f"{len(ids)} call{'' if len(ids) == 1 else 's'}" if ids else "nothing in scope"))
