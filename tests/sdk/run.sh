#!/bin/sh
# Run the SDK fidelity tests: the official @azure/storage-file-share SDK
# (pinned in package-lock.json) against tests/emulator/azfiles-emulator.
# Usage: tests/sdk/run.sh [test files...]   (default: every *.test.mjs)
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@azure/storage-file-share ]; then
    npm ci --no-audit --no-fund
fi
if [ "$#" -eq 0 ]; then
    set -- ./*.test.mjs
fi
# One file at a time keeps the 2-core CI machine from timing out; each file
# starts (and stops) its own emulator. --test-timeout bounds every test.
exec node --test --test-concurrency=1 --test-timeout=180000 "$@"
