"""The symptom catalogue: every label recognised, one truth for what explains it, benign noise."""

from __future__ import annotations

import pytest

from auditor.catalogue import CATALOGUE, LOG_LABELS
from auditor.logs.classify import Classifier, labels_of
from auditor.logs.reader import Record
from auditor.logs.symptoms import (
    BY_LABEL,
    HEALTHY,
    SCREEN,
    SPECIFICITY,
    SYMPTOMS,
    UNRECOGNIZED,
    codes_explaining,
)


def record(*lines: str) -> Record:
    return Record(lines, lines, None, "test")


def test_every_contract_label_has_a_place():
    assert set(SPECIFICITY) == set(LOG_LABELS)
    assert set(BY_LABEL) == set(LOG_LABELS) - {HEALTHY, UNRECOGNIZED}


@pytest.mark.parametrize("symptom", SYMPTOMS, ids=lambda s: s.label)
def test_each_example_is_screened_and_recognised_as_its_label(symptom):
    assert symptom.examples
    for example in symptom.examples:
        assert any(needle.decode() in example for needle in SCREEN), example
        assert symptom.label in labels_of(example), example


def test_explaining_codes_come_from_the_finding_catalogue():
    for label in LOG_LABELS:
        expected = {code for code, entry in CATALOGUE.items() if label in entry.log_labels}
        assert set(codes_explaining(label)) == expected
    assert "TRUST_POLICY_DENIES_EC2" in codes_explaining("credential_refresher_failure")
    assert "SG_EGRESS_BLOCKS" in codes_explaining("endpoint_unreachable")


def test_a_clue_narrows_the_explanation():
    classifier = Classifier()
    classifier.feed(record("ERROR [CredentialRefresher] Retrieve credentials produced error: "
                           "AssumeRoleUnauthorizedAccess: EC2 cannot assume the role app"))
    tally = classifier.symptoms["credential_refresher_failure"]
    assert tally.explained_by == ("TRUST_POLICY_DENIES_EC2",)


@pytest.mark.parametrize("line", [
    "Error occurred fetching the seelog config file path:  open /etc/amazon/ssm/seelog.xml: no "
    "such file or directory",
    "2018/08/06 07:17:30 Failed to load instance info from vault. RegistrationKey does not exist.",
    "2025-08-14 10:53:16.2416 WARN Error adding the directory '/etc/amazon/ssm' to watcher: no "
    "such file or directory",
    "2026-03-28 13:27:39 WARN [pluginName=Port] Reach the retry limit 5 for receive messages. "
    "Error: websocket: close 1000 (normal): Bye",
    "2018-09-17 13:12:46 ERROR [Stop @ agent.go.99] Agent's core manager can't be nil",
])
def test_benign_lines_raise_no_failure(line):
    classifier = Classifier()
    classifier.feed(record(line))
    assert classifier.primary() == HEALTHY


def test_a_channel_failure_with_a_precise_cause_is_that_cause():
    line = ("ERROR [MessageGatewayService] Failed to get controlchannel token, error: "
            "CreateControlChannel failed with error: createControlChannel request failed: "
            "unexpected response from the service <BadRequest xmlns=\"\"><message>Unable to "
            "process due to throttling.</message></BadRequest>")
    assert labels_of(line) == ["throttling"]


@pytest.mark.parametrize(("text", "label"), [
    ("caused by: Get http://169.254.169.254/latest/api/token: dial tcp 169.254.169.254:80: "
     "connect: connection refused", "imds_unreachable"),
    ("caused by: Post https://ssm.us-east-1.amazonaws.com/: proxyconnect tcp: dial tcp "
     "10.1.0.20:3128: i/o timeout", "proxy_misconfigured"),
    ('caused by: Post "https://ssmmessages.eu-west-1.amazonaws.com/v1/control-channel/i-1": '
     "x509: certificate has expired or is not yet valid", "tls_certificate"),
    ("ERROR error details - AccessDeniedException: User: arn:aws:sts::1:assumed-role/r/i-1 is not "
     "authorized to perform: ssm:UpdateInstanceInformation", "iam_access_denied"),
    ("Post https://ssm.eu-west-1.amazonaws.com/: dial tcp 10.0.1.5:443: connectex: No connection "
     "could be made because the target machine actively refused it.", "endpoint_unreachable"),
    ("InvalidSignatureException: Signature not yet current: 20181002T170509Z is still later "
     "than 20181002T170312Z", "clock_skew"),
    ("ERROR RequestError: send request failed\ncaused by: Post https://ssm.us-east-1."
     "amazonaws.com/: read tcp 10.0.0.5:44512->52.94.1.1:443: read: connection reset by peer",
     "endpoint_unreachable"),
    ("ERROR RequestError: send request failed\ncaused by: Post https://ssm.us-east-1."
     "amazonaws.com/: dial tcp: lookup ssm.us-east-1.amazonaws.com: no such host",
     "endpoint_unreachable"),
    ("ERROR Health ping failed with error - ExpiredTokenException: The security token included "
     "in the request is expired", "credential_refresher_failure"),
    ("ERROR error details - UnrecognizedClientException: The security token included in the "
     "request is invalid.", "credential_refresher_failure"),
    ('caused by: Post "https://ssm.eu-west-1.amazonaws.com/": dial tcp: lookup '
     "ssm.eu-west-1.amazonaws.com: getaddrinfow: The requested name is valid, but no data of "
     "the requested type was found.", "endpoint_unreachable"),
    ("operation error SSM: UpdateInstanceInformation, https response error StatusCode: 0, "
     'RequestID: , request send failed, Post "https://ssm.eu-west-1.amazonaws.com/": EOF',
     "endpoint_unreachable"),
    ("ERROR failed uploading stdout to s3://bucket/key err:SlowDown: Please reduce your request "
     "rate.", "throttling"),
    ("caused by: Get http://169.254.169.254/latest/meta-data/instance-id: dial tcp "
     "169.254.169.254:80: connect: connection timed out", "imds_unreachable"),
])
def test_mechanisms_are_recognised_in_shapes_not_in_the_corpus(text, label):
    assert labels_of(text) == [label]


def test_a_failed_dial_to_the_proxy_is_the_proxy_not_the_endpoint():
    old_go = ("RequestError: send request failed\ncaused by: Post https://ssm.eu-west-1."
              "amazonaws.com/: http: error connecting to proxy http://10.0.0.9:3128: dial tcp "
              "10.0.0.9:3128: connect: connection refused")
    assert labels_of(old_go) == ["proxy_misconfigured"]
    assert labels_of(old_go.replace("http: error connecting to proxy http://10.0.0.9:3128", "")
                     ) == ["endpoint_unreachable"]


def test_a_line_that_only_mentions_default_host_management_is_not_its_failure():
    skipped = ("ERROR [CredentialRefresher] Retrieve credentials produced error: Skipping default "
               "host management fallback: ThrottlingException: Rate exceeded")
    assert "registration_failure" not in labels_of(skipped)
    refused = ("ERROR [CredentialRefresher] Retrieve credentials produced error: Default Host "
               "Management Err: error calling RequestManagedInstanceRoleToken: "
               "InvalidInstanceProfileException: bad profile")
    assert "registration_failure" in labels_of(refused)


def test_credentials_past_their_expiry_are_the_refresher_failing_not_the_channel():
    text = ("ERROR [ssm-session-worker] failed to create websocket for datachannel with error: "
            "CreateDataChannel failed: failed to sign the request: credentials have expired")
    assert labels_of(text) == ["credential_refresher_failure"]


@pytest.mark.parametrize(("line", "failure"), [
    ("2025-08-24 04:15:31.0372 ERROR [GetMessages @ service.go.149] [ssm-agent-worker] "
     "[MessageService] [MDSInteractor] Uid - 4f1c2a9e-0000-4000-8000-000000000000", False),
    ("2025-08-24 04:15:31.0372 ERROR [GetMessages @ service.go.149] [ssm-agent-worker] "
     "[MessageService] [MDSInteractor] could not parse message 4f1c2a9e", True),
    ("2018-08-10 16:01:43 ERROR [func1 @ coremanager.go.250] Plugin name: StartupProcessor. "
     "runtime error: invalid memory address or nil pointer dereference", True),
])
def test_an_error_line_is_a_failure_only_when_it_says_what_failed(line, failure):
    classifier = Classifier()
    classifier.feed(record(line))
    assert (classifier.primary() == UNRECOGNIZED) is failure


def test_a_registration_denied_is_primarily_the_denial():
    classifier = Classifier()
    classifier.feed(record("ERROR [Registrar] failed to register identity: error calling "
                           "RegisterManagedInstance: AccessDeniedException: User: "
                           "arn:aws:sts::1:assumed-role/r/i-1 is not authorized to perform: "
                           "ssm:RegisterManagedInstance"))
    assert set(classifier.symptoms) == {"iam_access_denied", "registration_failure"}
    assert classifier.primary() == "iam_access_denied"


def test_an_unknown_error_beside_a_named_failure_is_not_reported_as_unrecognized():
    classifier = Classifier()
    classifier.feed(record("ERROR [HealthCheck] error details - ThrottlingException: Rate "
                           "exceeded"))
    classifier.feed(record("ERROR [ssm-agent-worker] [MessageService] [MDSInteractor] could not "
                           "parse message 4f1c2a9e: unexpected end of JSON input"))
    assert [tally.label for tally in classifier.ordered()] == ["throttling"]
    assert classifier.other_failures().count == 1


def test_a_transport_failure_to_a_host_outside_aws_is_not_an_endpoint_symptom():
    text = ("ERROR [ssm-document-worker] failed to download: RequestError: send request failed\n"
            'caused by: Get "https://github.com/org/repo/archive.zip": dial tcp: lookup '
            "github.com on 10.0.0.2:53: no such host")
    assert labels_of(text) == []
    aws = text.replace("github.com/org/repo/archive.zip", "s3.eu-west-1.amazonaws.com/b/k")
    assert labels_of(aws.replace("lookup github.com", "lookup s3.eu-west-1.amazonaws.com")) == [
        "endpoint_unreachable"]


def test_access_denied_for_another_service_is_not_an_ssm_denial():
    text = ("ERROR AccessDeniedException: User: arn:aws:sts::1:assumed-role/r/i-1 is not "
            "authorized to perform: s3:PutObject on resource: arn:aws:s3:::bucket/key")
    assert "iam_access_denied" not in labels_of(text)
    classifier = Classifier()
    classifier.feed(record(text))
    assert classifier.primary() == UNRECOGNIZED


def test_hibernation_alone_is_unrecognized_and_beside_a_cause_is_not():
    alone = Classifier()
    alone.feed(record("2018-08-06 07:17:30 INFO Agent enters hibernate mode. Reducing logging..."))
    assert alone.primary() == UNRECOGNIZED
    beside = Classifier()
    beside.feed(record("2019-10-18 20:54:25 INFO Agent is in hibernate mode. Reducing logging."))
    beside.feed(record("ERROR error details - ThrottlingException: Rate exceeded"))
    assert [tally.label for tally in beside.ordered()] == ["throttling"]


@pytest.mark.parametrize("code", [code for code, entry in CATALOGUE.items()
                                  if entry.agent_log and entry.log_labels])
def test_the_catalogue_log_shapes_show_a_label_their_finding_explains(code):
    entry = CATALOGUE[code]
    classifier = Classifier()
    for lines in entry.agent_log.split("\n"):
        classifier.feed(record(lines))
    shown = {tally.label for tally in classifier.ordered()}
    assert shown & set(entry.log_labels), (code, shown)


def test_a_refresher_backing_off_alone_is_the_refresher_failing():
    classifier = Classifier()
    classifier.feed(record("2024-05-02 08:00:01 INFO [CredentialRefresher] Sleeping for 28m50s "
                           "before retrying retrieve credentials"))
    assert classifier.primary() == "credential_refresher_failure"
    beside = Classifier()
    beside.feed(record("ERROR Health ping failed with error - EC2RoleRequestError: no EC2 "
                       "instance role found"))
    beside.feed(record("INFO [CredentialRefresher] Sleeping for 4s before retrying retrieve "
                       "credentials"))
    assert [tally.label for tally in beside.ordered()] == ["no_credentials"]


# --- issue 15: the families the first pass called healthy or mislabelled ---------------------

def _primary(*lines: str) -> tuple[str, set[str]]:
    classifier = Classifier()
    for line in lines:
        classifier.feed(record(*line.split("\n")))
    return classifier.primary(), {tally.label for tally in classifier.ordered()}


@pytest.mark.parametrize("line", [
    "ERROR [CredentialRefresher] Retrieve credentials produced unrecoverable aws error: "
    "MachineFingerprintDoesNotMatch: Fingerprint does not match",
    "2022-03-01 10:00:00 WARN [OnPremCredsProvider] The 'disk-info' value (1) has changed from the "
    "registered machine configuration value (2).",
    "ERROR [OnPremCredsProvider] Error while fetching hardware hashes from instance: exit status 1",
    "2024-01-01 00:00:00.0001 ERROR failed to get identity: failed to find agent identity",
    "ERROR EC2RoleProvider Failed to connect to Systems Manager with SSM role credentials. error "
    "calling RequestManagedInstanceRoleToken: failed to build RSA signature. Err: crypto/rsa: "
    "verification error",
    "ERROR Default Host Management Err: error calling RequestManagedInstanceRoleToken: "
    "UnauthorizedOperation: You are not authorized",
])
def test_identity_failures_outside_the_dhmc_wording_are_registration_failures(line):
    assert "registration_failure" in labels_of(line)


def test_a_token_request_refused_for_its_time_is_the_clock_not_a_registration():
    line = ("ERROR [CredentialRefresher] Retrieve credentials produced error: error occurred in "
            "RequestManagedInstanceRoleToken: InvalidSignatureException: Signature expired: "
            "20250101T000000Z is now earlier than 20250101T001000Z")
    assert set(labels_of(line)) == {"clock_skew", "credential_refresher_failure"}


@pytest.mark.parametrize(("line", "label"), [
    # a control channel stopping with a real error, not the nil error of agent 2.x
    ("ERROR [MGSInteractor] Stopping control channel encountered error: use of closed network "
     "connection", "session_manager_channel"),
    ("WARN [MGSInteractor] closing controlchannel failed with error: websocket: close sent",
     "session_manager_channel"),
    # a document plugin's curl to the metadata service
    ("WARN [ssm-document-worker] [pluginName=aws:runShellScript] curl: (28) Failed to connect to "
     "169.254.169.254 port 80 after 1001 ms: Timeout was reached", "imds_unreachable"),
    ("ERROR [pluginName=aws:runPowerShellScript] Invoke-RestMethod : Unable to connect to the "
     "remote server\nAt line:1 char:1\n+ Invoke-RestMethod http://169.254.169.254/latest/meta-data/",
     "imds_unreachable"),
])
def test_warn_only_and_plugin_failures_have_their_label(line, label):
    assert _primary(line)[0] == label


@pytest.mark.parametrize("line", [
    "2024-01-01 00:00:00 WARN [ssm-agent-worker] [MessageService] failed to connect to the "
    "message gateway, will retry",
    "2024-01-01 00:00:00 WARN [OnPremCredsProvider] unable to load the registration from disk",
    "2024-01-01 00:00:00 WARN [LongRunningPluginsManager] could not allocate a worker slot",
    "WARN [CredentialRefresher] Failed to write credentials to disk, attempting force write",
])
def test_a_warn_line_naming_a_failure_to_reach_authenticate_register_or_allocate_is_a_failure(line):
    assert _primary(line)[0] == UNRECOGNIZED


@pytest.mark.parametrize("line", [
    "2024-01-01 00:00:00 WARN [ssm-document-worker] IPC file not readable: tmp",
    "2024-01-01 00:00:00 WARN Error adding the directory '/etc/amazon/ssm' to watcher: no such "
    "file or directory",
    "2024-01-01 00:00:00 WARN [MGSInteractor] Failed to close websocket: tls: failed to send "
    "closeNotify alert (but connection was closed anyway): write tcp 10.0.0.1:1->52.0.0.1:443",
    "2024-01-01 00:00:00 WARN Error while loading server info Failed to load instance info from "
    "vault. RegistrationKey does not exist.",
    "2024-01-01 00:00:00 WARN [ssm-agent-worker] Deprecated option Mds.Endpoint ignored",
    "2024-01-01 00:00:00 INFO [ssm-document-worker] Do not call Billing info, On-Premises instance",
])
def test_benign_warn_lines_stay_healthy(line):
    assert _primary(line)[0] == HEALTHY


@pytest.mark.parametrize(("line", "exhausted"), [
    ("WARN [ssm-agent-worker] pipe2: too many open files", "too many open files"),
    ("ERROR [HealthCheck] error when calling AWS APIs. error details - RequestError: send request "
     "failed\ncaused by: Post https://ssm.eu-west-1.amazonaws.com/: dial tcp: lookup "
     "ssm.eu-west-1.amazonaws.com: too many open files", "too many open files"),
    ("ERROR [CredentialRefresher] Retrieve credentials produced error: open "
     "/var/lib/amazon/ssm/credentials.tmp: no space left on device", "no space left on device"),
    ("ERROR [ssm-session-worker] fork/exec /usr/bin/sh: cannot allocate memory",
     "cannot allocate memory"),
    ("ERROR [ssm-document-worker] write C:\\ProgramData\\Amazon\\SSM\\x: There is not enough space "
     "on the disk.", "not enough space on the disk"),
])
def test_resource_exhaustion_is_unrecognized_whatever_else_the_line_claims(line, exhausted):
    classifier = Classifier()
    classifier.feed(record(*line.split("\n")))
    assert classifier.primary() == UNRECOGNIZED
    (tally,) = classifier.ordered()
    assert tally.fields["exhausted"] == [exhausted]


@pytest.mark.parametrize("line", [
    "ERROR [ssm-document-worker] [pluginName=aws:runShellScript] Failed uploading /tmp/out to "
    "s3://bucket/key err:AccessDenied: Access Denied\n\tstatus code: 403, request id: X, "
    "host id: Y",
    "ERROR [pluginName=aws:downloadContent] ListS3Directory error AccessDenied: Access Denied",
    "INFO [pluginName=aws:runShellScript] Error when querying S3 bucket using address "
    "http://b.s3.eu-west-1.amazonaws.com. Error details: Failed to fetch region from the header",
])
def test_an_s3_request_error_in_a_plugin_claims_no_agent_label(line):
    primary, labels = _primary(line)
    assert labels == {UNRECOGNIZED}, labels
    assert primary == UNRECOGNIZED


def test_the_billing_info_call_depends_on_the_node():
    line = ("ERROR [CollectBillingInfoData @ dataProvider_unix.go.60] [aws:softwareInventory] "
            "Failed to execute command : curl [http://169.254.169.254/latest/dynamic/instance-identity/"
            "document]; error: exit status 7")
    unknown = Classifier()
    unknown.feed(record(line))
    assert unknown.primary() == HEALTHY
    assert "on-premises" in unknown.node_dependent_note()
    ec2 = Classifier()
    ec2.node_kinds.add("ec2")
    ec2.feed(record(line))
    assert ec2.primary() == "imds_unreachable"
    assert ec2.node_dependent_note() is None
    hybrid = Classifier()
    hybrid.feed(record("ERROR [instanceID=mi-0123456789abcdef0] x failed: exit status 1"))
    hybrid.node_kinds.add("ec2")  # ids of both kinds: the node is not shown to be EC2
    hybrid.feed(record(line))
    assert "imds_unreachable" not in {tally.label for tally in hybrid.ordered()}


def test_a_hybrid_clue_places_the_cause_outside_the_model():
    classifier = Classifier()
    classifier.feed(record("RequestManagedInstanceRoleToken: MachineFingerprintDoesNotMatch"))
    tally = classifier.symptoms["registration_failure"]
    assert tally.explained_by == ()
    assert "outside the EC2 model" in tally.outside_clues[0]
