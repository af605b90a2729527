#!/usr/bin/env bash
# Install Debian's Chromium for the HTML report's browser tests (headless), when no Chromium is
# on PATH and this runs as root with apt-get (CI on Debian). Elsewhere it says so and returns:
# the browser tests then skip, each saying why.
set -uo pipefail
for name in chromium chromium-browser google-chrome google-chrome-stable; do
    command -v "$name" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup_chromium: no Chromium, and no root apt-get to install it: the HTML report's" \
         "browser tests will be skipped (install chromium to run them)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium; } \
        >/dev/null; then
    echo "setup_chromium: apt-get could not install chromium: the browser tests will be" \
         "skipped" >&2
fi
exit 0
