#!/usr/bin/env bash
# CI machine setup before `npm ci`: a real Docker engine and the offline test image
# (scripts/test-docker.sh), so the runtime suites run instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-docker.sh
