#!/usr/bin/env bash
# Set up and run the checks: lint, then the whole test suite (the CDK app's tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh requirements-dev.txt requirements-cdk.txt
bash scripts/setup_cdk_cli.sh
bash scripts/setup_chromium.sh  # Debian's Chromium for the HTML report's browser tests
# jsii and the CDK CLI run on Node 20 here: no end-of-life banner over the test output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 NODE_NO_WARNINGS=1
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
