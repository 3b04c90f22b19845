#!/usr/bin/env bash
# CI machine setup before `npm ci`: a real Docker engine and the offline test image
# (scripts/test-docker.sh), so the runtime suites run instead of skipping; and Debian's chromium
# for the dashboard test (test/e2e/gui.serial.test.ts drives it with playwright-core: no browser
# is downloaded, and under MONK_CI a missing one fails the test).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-docker.sh
if [ ! -x /usr/bin/chromium ]; then
  echo "ci-setup: installing chromium"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
