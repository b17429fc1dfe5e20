#!/usr/bin/env bash
# The project's test command: builds in release (numerical tests are slow in debug builds)
# and runs every test suite. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
swift test -c release "$@"
