#!/usr/bin/env bash
# Create .venv (once) and install the pinned requirements given as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
for requirements in "$@"; do
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
done
