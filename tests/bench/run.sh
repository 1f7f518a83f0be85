#!/usr/bin/env bash
# Runs the benchmarks (not tests): builds, then prints a table of times and requests.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/build.sh build
AZSF_BUILD=$PWD/build exec /usr/bin/python3 tests/bench/bench.py "$@"
