#!/bin/bash
# Builds every fuzz target (libFuzzer + AddressSanitizer, optimised) into Fuzz/.build/release/.
# Needs the main package's Debian libraries (scripts/setup.sh) and clang's libFuzzer runtime,
# which the Swift toolchain ships.
set -euo pipefail
cd "$(dirname "$0")"
export PATH=/opt/swift/usr/bin:$PATH
swift build -c release --scratch-path "${FUZZ_SCRATCH:-.build}" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -g "$@"
