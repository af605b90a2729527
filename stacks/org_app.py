"""The organization audit's stacks, added to a CDK app from its context values.

    cdk synth -c org_audit=true [-c org_audit_account=ID] [-c org_audit_region=R]
              [-c org_audit_schedule="rate(1 day)"] [-c org_audit_max_concurrency=20]
              [-c org_audit_tolerated_failure_percentage=10] [-c org_audit_regions=all|R,R]
              [-c org_audit_accounts=ID,ID] [-c org_audit_role_name=ssm-auditor-readonly]
              [-c org_audit_external_id=X] [-c org_audit_organization_id=o-...]
              [-c org_audit_operator_principal=ARN] [-c org_audit_architecture=arm64|x86_64]
              [-c org_audit_unit_memory_mb=1024] [-c org_audit_unit_timeout_seconds=600]
              [-c org_audit_report_retention_days=90] [-c org_audit_security_hub=true]
              [-c org_audit_lambda_dependencies=DIR | -c org_audit_wheelhouse=DIR]
              [-c org_audit_build_cache=DIR]

Two stacks: ``SsmAuditor-OrgAudit`` for the audit account and ``SsmAuditor-OrgMemberRole``
for every member account. The audit account is ``org_audit_account``, else the account of the
CLI's credentials (``CDK_DEFAULT_ACCOUNT``); the member role needs it to name whom it trusts.
A bad value: one line, exit 2.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from auditor.errors import UsageError
from auditor.sources.organization.units import ALL_REGIONS
from stacks import lambda_bundle
from stacks.nag import add_nag_checks
from stacks.org_audit import LambdaCode, OrgAuditSettings, OrgAuditStack
from stacks.org_member_role import (
    LIST_FUNCTION_ROLE_NAME,
    UNIT_FUNCTION_ROLE_NAME,
    MemberRoleSettings,
    MemberRoleStack,
)

CONTEXT_SWITCH = "org_audit"
PREFIX = "org_audit_"
ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/*-]+$")
SCHEDULE = re.compile(r"^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$")


class OrgContextError(UsageError):
    """A context value of the organization audit that cannot be used."""


def wanted(app: cdk.App) -> bool:
    value = app.node.try_get_context(CONTEXT_SWITCH)
    if value == "":  # an unset variable: neither on nor off in silence
        raise OrgContextError(f"{CONTEXT_SWITCH}: empty value (an unset variable?): give -c "
                              f"{CONTEXT_SWITCH}=true")
    return str(value).lower() in ("true", "1", "yes")


def add_org_audit_stacks(app: cdk.App, nag: bool = True) -> list[cdk.Stack]:
    """The two stacks, checked by cdk-nag (``nag=False``: the caller adds the checks to the
    app once, for its other stacks too)."""
    context = _Context(app)
    settings = settings_from_context(context)
    member = MemberRoleSettings(
        audit_account=settings.account or _missing_account(),
        role_name=settings.role_name, external_id=settings.external_id,
        operator_principal=context.text("operator_principal", PRINCIPAL,
                                        "an IAM role or user ARN"),
        # The list function reads each account's enabled regions only for regions "all".
        function_roles=(UNIT_FUNCTION_ROLE_NAME,) + (
            (LIST_FUNCTION_ROLE_NAME,) if settings.regions == ALL_REGIONS else ()))
    code = lambda_code(context, settings)
    stacks = [OrgAuditStack(app, settings, code), MemberRoleStack(app, member)]
    if nag:
        add_nag_checks(app)
    return stacks


def settings_from_context(context: _Context) -> OrgAuditSettings:
    defaults = OrgAuditSettings()
    accounts = context.text("accounts", re.compile(r"^\d{12}(,\d{12})*$"),
                            "account ids separated by commas")
    regions = context.text("regions", re.compile(r"^(all|[a-z0-9-]+(,[a-z0-9-]+)*)$"),
                           '"all" or regions separated by commas') or defaults.regions
    if regions != "all":
        for region in regions.split(","):
            if not REGION.match(region):
                raise OrgContextError(f"{PREFIX}regions: {region!r} is not a region name")
    return OrgAuditSettings(
        account=context.text("account", ACCOUNT, "a 12-digit account id")
        or os.environ.get("CDK_DEFAULT_ACCOUNT") or None,
        region=context.text("region", REGION, "a region name")
        or os.environ.get("CDK_DEFAULT_REGION") or None,
        schedule=context.text("schedule", SCHEDULE, 'an EventBridge schedule expression, '
                              '"rate(1 day)" or "cron(0 3 * * ? *)"') or defaults.schedule,
        max_concurrency=context.number("max_concurrency", int, 1, 1000,
                                       defaults.max_concurrency),
        tolerated_failure_percentage=context.number(
            "tolerated_failure_percentage", float, 0, 100,
            defaults.tolerated_failure_percentage),
        role_name=context.text("role_name", ROLE_NAME, "an IAM role name")
        or defaults.role_name,
        external_id=context.text("external_id", re.compile(r"^[\w+=,.@:/-]{2,1224}$"),
                                 "2 to 1224 characters of [A-Za-z0-9+=,.@:/-]"),
        regions=regions,
        accounts=tuple(accounts.split(",")) if accounts else (),
        organization_id=context.text("organization_id", ORGANIZATION_ID,
                                     "an organization id (o-...)"),
        unit_memory_mb=context.number("unit_memory_mb", int, 256, 10240,
                                      defaults.unit_memory_mb),
        unit_timeout_seconds=context.number("unit_timeout_seconds", int, 60, 900,
                                            defaults.unit_timeout_seconds),
        report_retention_days=context.number("report_retention_days", int, 1, 3650,
                                             defaults.report_retention_days),
        security_hub=context.flag("security_hub", defaults.security_hub),
        target=lambda_bundle.target_for(context.text(
            "architecture", re.compile(r"^[\w-]+$"), "arm64 or x86_64") or "arm64"),
    )


def lambda_code(context: _Context, settings: OrgAuditSettings) -> LambdaCode:
    cache = context.path("build_cache") or lambda_bundle.DEFAULT_CACHE
    prebuilt = context.path("lambda_dependencies")
    if prebuilt is not None:
        dependencies = lambda_bundle.prebuilt_dependencies(prebuilt)
    else:
        dependencies = lambda_bundle.dependencies_dir(settings.target, cache,
                                                      wheelhouse=context.path("wheelhouse"))
    return LambdaCode(dependencies=dependencies, code=lambda_bundle.code_dir(cache))


def _missing_account() -> str:
    raise OrgContextError(f"{CONTEXT_SWITCH}=true: give the audit account with -c "
                          f"{PREFIX}account=ID (or credentials of it to the cdk command): the "
                          "member accounts' role must name whom it trusts")


class _Context:
    """Context values of the organization audit: ``-c org_audit_NAME=VALUE``."""

    def __init__(self, app: cdk.App) -> None:
        self._app = app

    def _raw(self, name: str) -> Any:
        value = self._app.node.try_get_context(PREFIX + name)
        if value == "":  # an unset variable: never the default in silence
            raise OrgContextError(f"{PREFIX}{name}: empty value (an unset variable?)")
        return value

    def text(self, name: str, pattern: re.Pattern[str], expected: str) -> str | None:
        value = self._raw(name)
        if value is None:
            return None
        if not isinstance(value, str) or not pattern.match(value):
            raise OrgContextError(f"{PREFIX}{name}: {value!r} is not {expected}")
        return value

    def number(self, name: str, kind: Callable[[str], Any], low: float, high: float,
               default: Any) -> Any:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = kind(str(value))
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise OrgContextError(f"{PREFIX}{name}: {value!r} is not a number from {low:g} "
                                  f"to {high:g}")
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if str(value).lower() not in ("true", "false"):
            raise OrgContextError(f"{PREFIX}{name}: {value!r} is not true or false")
        return str(value).lower() == "true"

    def path(self, name: str) -> Path | None:
        value = self._raw(name)
        return Path(str(value)).expanduser().resolve() if value is not None else None
