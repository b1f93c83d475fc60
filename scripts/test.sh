#!/usr/bin/env bash
# Runs serkd's test suite: installs build dependencies if needed, then `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift test "$@"
