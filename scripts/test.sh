#!/usr/bin/env bash
# Install everything the test suite needs on a fresh machine (Python 3.10+, root or sudo), then run the whole suite.
# Usage: bash scripts/test.sh [pytest arguments]
# The exit status is pytest's: 0 only when every test passed and none was skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser tests (Playwright cannot download its own browsers here).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
fi

# The package with every extra, so no test is skipped for a missing dependency.
python -m pip install --quiet --disable-pip-version-check -e ".[all]"

export RELUNET_REQUIRE_ALL=1   # tests/conftest.py fails the run if any test is skipped
exec python -m pytest "$@"
