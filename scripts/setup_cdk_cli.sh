#!/usr/bin/env bash
# Install the AWS CDK command line tool pinned in package-lock.json (node_modules/.bin/cdk),
# with `npm ci`; skipped while node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
installed_lock=node_modules/.installed-package-lock.json
if [ -x node_modules/.bin/cdk ] && cmp -s package-lock.json "$installed_lock"; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$installed_lock"
