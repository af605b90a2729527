#!/usr/bin/env bash
# Set up and audit the bundled demo estate. Extra arguments go to the auditor (e.g. --format json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_venv.sh requirements.txt
exec .venv/bin/python -m auditor --all --snapshot demo/estate "$@"
