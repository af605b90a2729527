"""The symptom catalogue, as data: how each log label is recognised, and what can explain it.

Patterns match the mechanism, not one message: AWS error codes (``AccessDeniedException``,
``ThrottlingException``), Go net error shapes (``dial tcp ...: i/o timeout``, ``lookup ...: no
such host``, ``connectex:`` on Windows), SDK chains (``RequestError: send request failed`` /
``caused by:``), across agent 1.x to 3.3.x. They run on one record (a message with its
continuation lines) with its prefixes stripped.

Which finding codes can explain a label is NOT written here: it is the ``log_labels`` of each
entry of ``auditor.catalogue`` (one place for that truth), narrowed by the clues below (a clue in
the log that names one precise cause, e.g. ``AssumeRoleUnauthorizedAccess`` for a trust policy
that does not let EC2 assume the role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from auditor.aws_facts import SERVICES
from auditor.catalogue import CATALOGUE, LOG_LABELS

HEALTHY = "healthy"
UNRECOGNIZED = "unrecognized"

_IMDS = r"(?:169\.254\.169\.254|fd00:ec2::254|\[fd00:ec2::254\])"
# A connection to the proxy itself failed: Go's `proxyconnect tcp:` (go >= 1.8), net/http's older
# `http: error connecting to proxy X:`, or a proxy refusing the CONNECT with 407.
_PROXY_DIAL = (r"proxyconnect|Proxy Authentication|(?:error|failed to) connect(?:ing)? to "
               r"(?:https? )?proxy")
# Shapes that make a transport failure something else: the metadata service, a proxy, TLS, or
# a destination on the instance itself (a port-forwarding session's local port).
_NOT_TRANSPORT = re.compile(_IMDS + "|" + _PROXY_DIAL + r"|x509:|certificate"
                            r"|dial tcp (?::\d|127\.|localhost|\[::1\])|pluginName=Port"
                            # a named host that is not an AWS endpoint (github.com, a repo...)
                            r"|(?:https?://|wss://|lookup )(?![\w.-]{0,200}amazonaws\.com)"
                            r"[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){0,10}\.[a-z]{2,24}\b(?!\.\d)",
                            re.I)
# Gaps inside a pattern are bounded ({0,N}, never * or +): a pattern whose prefix occurs many times
# on a long line must not rescan the rest of the line from each occurrence (quadratic time).
_GAP = r"[^\n]{0,200}"
# The instance clock, not the request, is wrong: a signature refused for its time.
_CLOCK = (r"Signature expired|Signature not\s{1,5}yet current|RequestTimeTooSkewed|RequestExpired"
          r"|RequestInTheFuture|clock skew")
# S3 answering a plugin (Run Command output, downloads, session logs): its errors are S3's, not the
# agent's own channel: "AccessDenied: Access Denied" (S3's code), a bucket's region from a header.
_S3_REQUEST = (r"AccessDenied: Access Denied|s3://|S3 API|ListS3|S3 bucket|host id:"
               r"|region from the header")
# An on-premises node whose machine no longer matches the fingerprint it registered with (the
# ERROR line, then one WARN line per changed value), or that cannot compute it.
_HYBRID_FINGERPRINT = (r"MachineFingerprintDoesNotMatch|Fingerprint does not match"
                       r"|Machine configuration has changed more than the allowed threshold"
                       r"|has changed from the registered machine configuration value"
                       r"|Error while fetching hardware hashes")
# The agent found no identity at all to run as (identity_selector.go).
_NO_IDENTITY = (r"failed to assume any identity|failed to find (?:agent )?identity"
                r"|failed to get identity:")
_WINDOWS_NET = (r"connectex:|wsarecv|wsasend|actively refused|forcibly closed"
                r"|did not properly respond|target machine")


@dataclass(frozen=True)
class Pattern:
    """A regex over a record's text; ``unless`` names shapes that belong to another label."""

    regex: re.Pattern[str]
    unless: re.Pattern[str] | None = None

    def matches(self, text: str) -> bool:
        return bool(self.regex.search(text)) and not (self.unless and self.unless.search(text))


def _p(regex: str, unless: str | re.Pattern[str] | None = None, flags: int = 0) -> Pattern:
    compiled_unless = re.compile(unless, flags) if isinstance(unless, str) else unless
    return Pattern(re.compile(regex, flags), compiled_unless)


@dataclass(frozen=True)
class Clue:
    """A detail of the log that narrows the explaining findings to these codes."""

    regex: re.Pattern[str]
    codes: tuple[str, ...]
    name: str
    # Set when the clue places the cause outside the auditor's model (no finding can explain it).
    outside: str | None = None


@dataclass(frozen=True)
class Symptom:
    label: str
    meaning: str
    patterns: tuple[Pattern, ...]
    # What can cause it that the auditor's model does not see (said when nothing explains it).
    outside_model: tuple[str, ...]
    clues: tuple[Clue, ...] = ()
    # Network findings explain it only for the service the log names (ssm, ssmmessages, ...).
    service_scoped: bool = False
    # Real line shapes, checked by the tests against the patterns and the screen.
    examples: tuple[str, ...] = field(default=())
    # Lower-case substrings one of which every match holds: a cheap test before the regexes.
    triggers: tuple[str, ...] = ()

    def matches(self, text: str, lowered: str) -> bool:
        if not any(trigger in lowered for trigger in self.triggers):
            return False
        return any(pattern.matches(text) for pattern in self.patterns)


def _clue(name: str, regex: str, *codes: str, outside: str | None = None) -> Clue:
    return Clue(re.compile(regex, re.I), codes, name, outside)


# Ordered from the most specific cause to the least: the first label present is `primary`. A
# refresher that cannot get credentials while the endpoints time out or throttle is their
# consequence, so it ranks after them.
SYMPTOMS: tuple[Symptom, ...] = (
    Symptom(
        "clock_skew",
        "AWS rejected the request's signature time: the instance clock is wrong",
        (_p(_CLOCK),),
        ("the instance clock (NTP / Amazon Time Sync at 169.254.169.123, or the hypervisor "
         "clock after a long stop)",),
        examples=("InvalidSignatureException: Signature expired: 20151120T200815Z is now earlier "
                  "than 20151120T201846Z (20151120T202346Z - 5 min.)",),
        triggers=("signature", "skew", "requesttime", "requestexpired", "requestinthefuture"),
    ),
    Symptom(
        "tls_certificate",
        "the TLS certificate presented to the agent is not trusted",
        (_p(r"x509: |certificate verify failed|SSL certificate problem|SecureChannelFailure"
            r"|remote certificate is invalid|failed to verify certificate"
            r"|trust relationship for the SSL/TLS"),),
        ("TLS inspection by a proxy or firewall whose CA the instance does not trust",
         "the instance's CA bundle (ca-certificates) or the Windows root store is outdated",
         "the instance clock (a certificate looks expired or not yet valid)"),
        examples=("Post https://ssm.us-gov-west-1.amazonaws.com/: x509: certificate signed by "
                  "unknown authority",),
        triggers=("x509", "certificate", "securechannel", "ssl/tls"),
    ),
    Symptom(
        "proxy_misconfigured",
        "the agent's proxy refuses, fails or wants authentication",
        (_p(_PROXY_DIAL + r"|\b407\b[^\n]{0,40}proxy", flags=re.I),
         _p(r"\bproxy\b[^\n]{0,60}\b(?:refused|timed out|timeout|unreachable|denied|bad gateway"
            r"|error)\b", unless=r"Proxy environment variables|proxy configuration for current"
                                  r"|no_proxy|http_proxy:|https_proxy:", flags=re.I)),
        ("the proxy itself (its address in http_proxy/https_proxy, its allow-list, its "
         "authentication) and no_proxy=169.254.169.254 for the metadata service",),
        examples=("caused by: Post https://ssm.us-east-1.amazonaws.com/: proxyconnect tcp: tls: "
                  "first record does not look like a TLS handshake",),
        triggers=("proxy", "407"),
    ),
    Symptom(
        "imds_unreachable",
        "the agent cannot read the instance metadata service",
        (_p(_IMDS + _GAP + r"(?:timeout|timed out|refused|unreachable|cancel|no route|EOF"
            r"|reset|40[134]|connect:|exit status [1-9]|" + _WINDOWS_NET + r")", flags=re.I),
         # a plugin's PowerShell call to the metadata service (the address is on the echoed
         # command line below the error)
         _p(r"Unable to connect to the remote server[\s\S]{0,1000}?" + _IMDS, flags=re.I),
         _p(r"Data from vault is empty|Failed to fetch (?:instance ID|region|availability zone)"
            r"|failed to (?:get|fetch|retrieve) (?:an )?IMDSv2 token"
            r"|error (?:fetching|retrieving) (?:the )?(?:instanceID|region)",
            unless=_S3_REQUEST, flags=re.I),
         _p(r"EC2MetadataError", unless=r"no EC2 instance role found|status code: 404")),
        ("a route on the instance that sends 169.254.169.254 elsewhere (custom Windows AMIs)",
         "a proxy without no_proxy=169.254.169.254",
         "a host firewall (iptables, Windows Firewall) dropping link-local traffic",
         "the hop limit for IMDSv2 tokens when the agent runs in a container"),
        examples=("Failed to fetch instance ID. Data from vault is empty. RequestError: send "
                  "request failed caused by: Get http://169.254.169.254/latest/meta-data/"
                  "instance-id",),
        triggers=("169.254", "fd00:ec2", "vault", "fetch", "imds", "ec2metadata", "retriev"),
    ),
    Symptom(
        "no_credentials",
        "the agent found no credentials at all",
        (_p(r"NoCredentialProviders|no valid providers in chain|no EC2 instance role found"
            r"|EC2RoleRequestError|unable to load credentials|could not find any credentials"
            r"|no IMDS role found"),),
        ("credentials the agent reads from a file on the instance "
         "(/root/.aws/credentials, amazon-ssm-agent.json)",),
        examples=("ERROR Health ping failed with error - EC2RoleRequestError: no EC2 instance role "
                  "found",),
        triggers=("credential", "provider", "role found", "ec2rolerequest", "imds role"),
    ),
    Symptom(
        "iam_access_denied",
        "AWS refused an SSM, ec2messages or ssmmessages action to the agent's role",
        (_p(r"AccessDenied|not authorized to perform|AuthorizationFailure|UnauthorizedOperation"
            r"|<Unauthorized|Unauthorized request",
            unless=r"instance management role is not configured|AssumeRoleUnauthorizedAccess"
                   r"|RequestManagedInstanceRoleToken"
                   r"|perform: (?!ssm:|ec2messages:|ssmmessages:)[\w-]{1,64}:|" + _S3_REQUEST),),
        ("a resource-based or session policy the auditor does not read",
         "an endpoint policy of a VPC endpoint in another VPC that the traffic crosses"),
        clues=(
            _clue("explicit_deny", r"explicit deny in an identity-based policy",
                  "EXPLICIT_DENY", "CONDITION_NOT_EVALUATED"),
            _clue("no_identity_allow", r"no identity-based policy allows", "MISSING_PERMISSIONS"),
            _clue("boundary", r"permissions boundary", "PERMISSIONS_BOUNDARY_DENIES"),
            _clue("scp", r"service control policy", "SCP_DENIES"),
            _clue("endpoint_policy", r"VPC endpoint policy", "ENDPOINT_POLICY_DENIES"),
        ),
        examples=("ERROR [HealthCheck] error when calling AWS APIs. error details - "
                  "AccessDeniedException: User: arn:aws:sts::111122223333:assumed-role/r/"
                  "i-0123456789abcdef0 is not authorized to perform: "
                  "ssm:UpdateInstanceInformation on resource: arn",),
        triggers=("denied", "not authorized", "authorizationfailure", "unauthorized"),
    ),
    Symptom(
        "registration_failure",
        "registration, the agent's identity or Default Host Management was rejected",
        (_p(r"instance management role is not configured|InvalidInstanceId|ActivationExpired"
            r"|InvalidActivation|Activation(?:Id)? (?:has )?expired|RegistrationLimitExceeded"),
         _p(r"(?:(?:Registration|register)[^\n]{0,80}failed|failed to register)" + _GAP +
            r"(?:Exception|Invalid|Expired|NotFound|Limit)", flags=re.I),
         # an on-premises node whose machine no longer matches the fingerprint it registered
         # with, or cannot compute it (Windows: WMI)
         _p(_HYBRID_FINGERPRINT),
         # no identity at all: neither an on-premises registration nor the EC2 metadata
         _p(_NO_IDENTITY),
         # the answer to the Default Host Management (or managed-instance) token call itself
         # ("Default Host Management Err: ...", "RequestManagedInstanceRoleToken: ..."), not a
         # line saying it was skipped; a signature refused for its time is the clock's
         _p(r"(?:Default Host Management Err\w{0,20}:|RequestManagedInstanceRoleToken\b)" + _GAP +
            r"(?:Exception|Invalid|denied|not configured|signature|Unauthori[sz]ed|Fingerprint)",
            unless=_CLOCK, flags=re.I)),
        ("an on-premises activation (its code, id, expiry and registration limit)",
         "the agent's registration files on the instance (/var/lib/amazon/ssm, a cloned AMI "
         "carrying another instance's registration)"),
        clues=(_clue("dhmc_not_configured", r"instance management role is not configured",
                     "DHMC_DISABLED"),
               # On EC2 the agent takes the EC2 identity when the metadata service answers.
               _clue("no_identity", _NO_IDENTITY, "IMDS_DISABLED"),
               _clue("dhmc_signature", r"(?:unable|failed) to build RSA signature",
                     "IMDS_DISABLED", "DHMC_REQUIRES_IMDSV2"),
               _clue("hybrid_fingerprint", _HYBRID_FINGERPRINT, outside=(
                   "an on-premises (hybrid) node's registration and machine fingerprint: hybrid "
                   "nodes are outside the EC2 model (re-register the node, keep /etc/machine-id "
                   "stable)"))),
        examples=("ERROR Registration failed due to error registering the instance with AWS SSM. "
                  "ActivationExpired:",
                  "RequestManagedInstanceRoleToken: MachineFingerprintDoesNotMatch",
                  "2024-09-01 14:08:06 ERROR Agent failed to assume any identity"),
        triggers=("management role", "invalidinstanceid", "activation", "regist", "default host",
                  "requestmanagedinstanceroletoken", "fingerprint", "machine configuration",
                  "hardware hash", "identity"),
    ),
    Symptom(
        "throttling",
        "AWS throttled the agent's calls",
        (_p(r"ThrottlingException|Rate exceeded|TooManyRequestsException|RequestLimitExceeded"
            r"|\bSlowDown\b|reduce your request rate"
            r"|due to throttling|\bThrottl(?:ed|ing)\b[^\n]{0,40}(?:error|exception)",
            flags=re.I),),
        ("the account's API rate for UpdateInstanceInformation and GetMessages, shared by "
         "every instance (many instances starting at once)",),
        examples=("ERROR [HealthCheck] error when calling AWS APIs. error details - "
                  "ThrottlingException: Rate exceeded",),
        triggers=("throttl", "rate exceeded", "toomanyrequests", "requestlimitexceeded",
                  "slowdown", "request rate"),
    ),
    Symptom(
        "endpoint_unreachable",
        "the agent could not reach an AWS endpoint (timeout, DNS, reset)",
        (_p(r"dial tcp[^\n]{0,120}(?:i/o timeout|timed out|refused|no route to host|unreachable"
            r"|reset|no such host|server misbehaving|temporary failure|" + _WINDOWS_NET + r")",
            unless=_NOT_TRANSPORT),
         _p(r"lookup \S{1,255}(?: on \S{1,64})?: (?:no such host|i/o timeout|server misbehaving"
            r"|read udp|getaddrinfow|No such host is known|temporary failure)",
            unless=_NOT_TRANSPORT, flags=re.I),
         _p(r"Client\.Timeout exceeded|request cancel+ed while waiting for connection"
            r"|context deadline exceeded|TLS handshake timeout|connection reset by peer"
            r"|" + _WINDOWS_NET, unless=_NOT_TRANSPORT),
         # SDK v1 ("RequestError: send request failed") and v2 ("request send failed, Post")
         _p(r"RequestError: send request failed|request send failed", unless=_NOT_TRANSPORT)),
        ("an OS firewall on the instance (iptables, firewalld, Windows Firewall)",
         "a proxy the agent is configured to use, or a transparent proxy",
         "a custom DNS server or /etc/hosts entry",
         "a hop the auditor does not model (transit gateway, firewall appliance, on-premises "
         "network)"),
        service_scoped=True,
        examples=("caused by: Post https://ssm.ap-southeast-2.amazonaws.com/: dial tcp "
                  "172.31.24.65:443: i/o timeout",),
        triggers=("dial tcp", "lookup ", "timeout", "cancel", "deadline", "reset by peer",
                  "connectex", "wsarecv", "wsasend", "actively refused", "forcibly",
                  "properly respond", "target machine", "send request failed",
                  "request send failed"),
    ),
    Symptom(
        "credential_refresher_failure",
        "the credential refresher cannot get credentials for the EC2 identity and backs off",
        (_p(r"Retrieve credentials produced (?:\w{1,40} ){0,4}error"
            r"|no valid credentials could be retrieved"
            r"|AssumeRoleUnauthorizedAccess|EC2 cannot assume the role"
            r"|unable to acquire credentials|ExpiredToken|UnrecognizedClientException"
            r"|InvalidClientTokenId|security token included in the request is (?:invalid|expired)"
            # the SDK refusing to sign with credentials past their expiry (v2: "shared
            # credentials are already expired"; v1: "EC2RoleProvider ... credentials expired")
            r"|credentials (?:are |have )?(?:already )?expired"),
         # the refresher failing to get credentials, not its housekeeping of the files it
         # keeps them in (writing, saving the expiry, purging old ones)
         _p(r"\[CredentialRefresher\]" + _GAP + r"(?:error|fail)",
            unless=r"(?:write|writ|sav|purg)\w{0,4} (?:the )?(?:new |old )?(?:credentials? to disk"
                   r"|expiration|credentials\b|cred file)", flags=re.I)),
        ("credentials stored by an earlier registration on the instance "
         "(/var/lib/amazon/ssm/credentials)",),
        clues=(_clue("assume_role_unauthorized",
                     r"AssumeRoleUnauthorizedAccess|EC2 cannot assume the role",
                     "TRUST_POLICY_DENIES_EC2"),
               _clue("dhmc_not_configured", r"instance management role is not configured",
                     "DHMC_DISABLED")),
        examples=("ERROR [CredentialRefresher] Retrieve credentials produced error: no valid "
                  "credentials could be retrieved for ec2 identity",),
        triggers=("credential", "assumerole", "assume the role", "expiredtoken",
                  "unrecognizedclient", "invalidclienttokenid", "security token"),
    ),
    Symptom(
        "session_manager_channel",
        "the control or data channel (ssmmessages websocket) failed",
        (_p(r"websocket: (?:close (?!1000)\d+|bad handshake)|control frame length"
            r"|Failed to get controlchannel token|CreateControlChannel failed"
            r"|createControlChannel request failed|CreateDataChannel failed"
            r"|failed to (?:open|create|initialize|connect|reconnect)[^\n]{0,20}"
            r"(?:control|data) ?channel"
            # the channel stopping, or not set up, with an error (not the 2.x stop line that
            # prints a nil error, "stopping controlchannel with error, %!s(<nil>)")
            r"|Stopping control ?channel encountered error|closing control ?channel failed"
            r"|Error setting up control ?channel"
            r"|failed to create websocket|Reach the retry limit \d+ for receive messages",
            unless=r"websocket: close 1000", flags=re.I),),
        ("Session Manager preferences (KMS encryption, logging to S3 or CloudWatch that the "
         "instance cannot reach)",
         "a proxy or firewall that does not pass websockets"),
        service_scoped=True,
        examples=("WARN [MessageGatewayService] Reach the retry limit 5 for receive messages. "
                  "Error: websocket: close 1006 (abnormal closure): unexpected EOF",),
        triggers=("websocket", "control frame", "channel", "retry limit"),
    ),
)

BY_LABEL: dict[str, Symptom] = {symptom.label: symptom for symptom in SYMPTOMS}
SPECIFICITY: tuple[str, ...] = (*(s.label for s in SYMPTOMS), UNRECOGNIZED, HEALTHY)

# Lines that look alarming and are not failures: never a symptom, never `unrecognized`
# (lower-case substrings of the head line).
BENIGN: tuple[str, ...] = (
    "seelog.xml", "seelog config", "registrationkey does not exist", "to watcher",
    "start file watcher", "start watcher", "core manager can't be nil",
    "stopping controlchannel with error, %!s", "websocket: close 1000",
    "no long running plugins", "proxy environment variables",
    "proxy configuration for current user", "amazon-ssm-agent.json.template",
    "connection was closed anyway", "do not call billing info",
)

# The inventory's billing-info call to the metadata service as agents before 3.x made it (curl on
# Linux, Invoke-RestMethod on Windows), on every node: on an on-premises node it fails by design
# (there is no metadata service); on an EC2 instance its failure means the metadata service is
# unreachable from the OS. Agents 3.x skip the call on on-premises nodes, so their failure
# (GetInstanceIdentityDocument) is always the metadata service's. Lower-case substrings, all of
# one group in the record.
NODE_DEPENDENT_IMDS: tuple[tuple[str, ...], ...] = (
    ("collectbillinginfodata", "curl"), ("collectbillinginfodata", "invoke-restmethod"),
)

# Resources the operating system ran out of: a real failure outside the labels (`unrecognized`)
# whatever else the record says (a dial that fails for want of a file descriptor is not an
# unreachable endpoint, a refresher that cannot write its file to a full disk did get its
# credentials), and whatever its log level. Group 1 names the resource.
EXHAUSTION = re.compile(
    r"(too many open files?|no space left on device|not enough space on the disk"
    r"|cannot allocate memory|out of memory|insufficient system resources"
    r"|disk quota exceeded|no buffer space available|resource temporarily unavailable"
    r"|paging file is too small)", re.I)

# What may stand before a log level: the agent's time, or what a paste left of it
# ("020-10-09 10:27:19 ERROR" lost its first digit).
_TIME_PREFIX = r"[\d:./, T-]{0,40}"

# A record that is a failure even though no label matches it: `unrecognized` (tested only on
# records holding "error", "exception" or "fail").
GENERIC_FAILURE = re.compile(
    r"^" + _TIME_PREFIX + r"ERROR\b"
    r"|Failed to start agent|error when calling AWS APIs|Health ping failed"
    # a request that errored, whatever the level it was logged at
    r"|\bError (?:when|while) (?:calling|querying|connecting|sending|uploading|downloading)"
    r"|\b\w{1,80}(?:Exception|Error): ",
    re.I | re.M,
)
# The severity rule: a WARN line from an agent component is a failure when it names a failure
# (FAILURE_WORDS) to reach, authenticate, register or allocate something
# (REACH_AUTH_REGISTER_ALLOCATE).
WARN_LEVEL = re.compile(r"^" + _TIME_PREFIX + r"WARN\b", re.M)
REACH_AUTH_REGISTER_ALLOCATE = re.compile(
    r"connect|reach|dial|timed? ?out|unreachable|resolv|lookup|refused|reset|network|endpoint"
    r"|websocket|channel|proxy|tls|certificate|metadata|imds"
    r"|authenticat|authori[sz]|credential|token|signature|denied|forbidden|assume|role"
    r"|regist|identity|fingerprint|activation|wmi"
    r"|allocat|memory|open files?|space|disk|resource|quota",
    re.I)
GENERIC_TRIGGERS = ("error", "exception", "fail")
# ...and which, once its level and source location ("[GetMessages @ service.go.149]") are set
# aside, still says something failed: agent 3.3.2958 logged a bare message id at ERROR level.
LEVEL_AND_LOCATION = re.compile(r"\bERROR\b|\[\w+ @ [\w./-]+\]")
FAILURE_WORDS = re.compile(
    r"err|fail|exception|unable|cannot|can't|could not|couldn't|denied|refused|timed? ?out"
    r"|invalid|panic|expired|not found|no such|unexpected|unauthori[sz]ed|forbidden|crash"
    r"|exit (?:status|code)|not loaded|missing|permission|no space|killed|abort|nil",
    re.I,
)
# What the agent does after a failure (hibernate, back off): `unrecognized` only when the input
# shows no failure with a label, else the back-off interval is a field of that failure
# (lower-case substrings).
CONSEQUENCE: tuple[str, ...] = (
    "hibernat", "backing off", "stopped temporarily", "will retry automatically",
    "reducing logging", "increasing error count", "sleeping for",
)

# Consequences that name whose back-off they are: alone in the input, they show that label
# ("[CredentialRefresher] Sleeping for 28m50s before retrying retrieve credentials") rather than
# an unknown failure (lower-case substrings).
OWNED_CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "credential_refresher_failure": ("[credentialrefresher]", "retrieve credentials"),
}

# Substrings one of which every relevant line holds: the reader decodes only those lines.
# Each needle costs one pass over the input (about 1.2 GB/s): keep them few. "ThrottlingException:
# Rate exceeded" and "AccessDeniedException" say "xception"; a partial paste may hold only a
# `caused by:` line or a bare x509 error.
SCREEN: tuple[bytes, ...] = (
    b"rror", b"ERROR", b"xception", b"roxy", b"dial tcp", b"caused by", b"x509", b"ertificate",
    b"ibernat", b"acking off", b"Sleeping for", b"NoCredentialProviders", b"gent v",
    b"agent - v",
    # WARN lines (the severity rule), resources the OS ran out of, a hybrid node's fingerprint
    # and a plugin's call to the metadata service, all of which may be written without "error"
    b"WARN", b"open file", b"space left", b"ingerprint", b"169.254",
)

# Lines that show something working (the log contradicts a model that says it is blocked),
# counted per chunk by the reader, never decoded.
WORKING: dict[str, tuple[bytes, ...]] = {
    "ssm": (b"Schedule manager refreshed with",),
    "ssmmessages": (b"Successfully opened websocket connection",),
    "credentials": (b"Next credential rotation",),
}


# Where a 2.x agent prefixes its lines with the instance id ("[instanceID=i-0abc...]" on EC2,
# "[instanceID=mi-0abc...]" on an on-premises node): searched until the first occurrence.
NODE_PROBE = b"instanceID="

# What any agent log holds somewhere: a log level or the agent's name. An input without any
# is probably not an agent log, which the report says rather than calling it healthy.
AGENT_MARKERS: tuple[bytes, ...] = (b"INFO", b"ERROR", b"WARN", b"DEBUG", b"ssm-agent",
                                    b"amazon-ssm", b"AmazonSSM")


def codes_explaining(label: str) -> tuple[str, ...]:
    """Finding codes whose catalogue entry lists `label` among the log labels it explains."""
    return _codes_by_label().get(label, ())


@cache
def _codes_by_label() -> dict[str, tuple[str, ...]]:
    by_label: dict[str, list[str]] = {label: [] for label in LOG_LABELS}
    for code, entry in CATALOGUE.items():
        for label in entry.log_labels:
            by_label[label].append(code)
    return {label: tuple(codes) for label, codes in by_label.items()}


def ssm_services(hosts: list[str]) -> set[str]:
    """The SSM services (ssm, ssmmessages, ec2messages) among endpoint host names."""
    return {host.split(".", 1)[0] for host in hosts} & set(SERVICES)
