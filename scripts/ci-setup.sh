#!/usr/bin/env bash
# CI machine setup before `npm ci`: a real Docker engine and the offline test image
# (scripts/test-docker.sh), so the runtime suites run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-docker.sh

# Tools the suites drive: tmux (interactive shell tests).
need=()
command -v tmux >/dev/null || need+=(tmux)
if [ ${#need[@]} -gt 0 ]; then
  echo "ci-setup: installing ${need[*]}"
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
