"""Fixtures shared by the tests that talk to moto."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

FAKE_REGION = "us-east-1"

# Property-based tests (tests/test_properties.py). "ci": bounded and deterministic (a fixed
# seed per test), run by the suite. "long": by hand, with SSM_AUDITOR_HYPOTHESIS=long or
# --hypothesis-profile=long; it draws new examples on every run.
settings.register_profile("ci", max_examples=30, derandomize=True, deadline=None,
                          database=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None, database=None,
                          print_blob=True, suppress_health_check=[HealthCheck.too_slow])


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", None):  # the option, when given, wins
        settings.load_profile(os.environ.get("SSM_AUDITOR_HYPOTHESIS", "ci"))


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Fake credentials and a region; nothing read from the user's ~/.aws or the network."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_ENDPOINT_URL",
                 "AWS_ENDPOINT_URL_EC2", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
                 "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Speed: moto would build its catalogue of public AMIs for every test; none is needed.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    # moto gap: DNS Firewall and Route 53 Profiles are answered by a fake (tests/moto_dns.py),
    # empty unless a test fills it (the dns_services fixture).
    from tests.moto_dns import FakeDnsServices, install

    install(monkeypatch, FakeDnsServices())


@pytest.fixture
def dns_services(fake_aws, monkeypatch: pytest.MonkeyPatch):
    """The fake DNS Firewall and Route 53 Profiles of a moto test, to fill."""
    from tests.moto_dns import FakeDnsServices, install

    return install(monkeypatch, FakeDnsServices())


@pytest.fixture(scope="module")
def shared_botocore_loader() -> Iterator[None]:
    """Speed only: every boto3 session (the tests' and the auditor's) reads the service models
    once per module instead of once per session, which costs more than a scenario itself."""
    import botocore.loaders
    import botocore.session

    loader = botocore.loaders.create_loader()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(botocore.session, "create_loader", lambda *_args, **_kwargs: loader)
        yield


@pytest.fixture
def vpc():
    """The common VPC of the moto scenarios (tests/moto_estate.MotoVpc), inside mock_aws."""
    import boto3
    from moto import mock_aws

    from tests.moto_estate import REGION, MotoVpc

    with mock_aws():
        yield MotoVpc.create(boto3.client("ec2", region_name=REGION))


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on 127.0.0.1, for the auditor (in-process) and the CDK CLI (Node) alike."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    try:
        yield endpoint
    finally:
        # The server shares moto's in-process backends: leave them empty for the next test.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset",
                                                      method="POST"), timeout=30)
        server.stop()
