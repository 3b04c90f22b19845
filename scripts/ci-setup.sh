#!/usr/bin/env bash
# CI machine setup before `npm ci`: a real Docker engine and the offline test image
# (scripts/test-docker.sh), so the runtime suites run instead of skipping; tmux for the interactive
# shell tests (test/e2e/shell-tty.serial.test.ts); and Debian's chromium for the dashboard test
# (test/e2e/gui.serial.test.ts drives it with playwright-core: no browser is downloaded). Under
# MONK_CI a missing tool fails its test instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-docker.sh

need=()
command -v tmux >/dev/null || need+=(tmux)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci-setup: installing ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
