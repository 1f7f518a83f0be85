#!/usr/bin/env bash
# Runs the benchmarks (not tests): builds azsharefs and the FUSE passthrough
# baseline, then runs every workload on local disk, the passthrough and
# azsharefs (close-to-open and write-back, over the emulator at each latency)
# and prints the tables. One command, nothing left behind (bench.py stops
# every mount and emulator it started, by PID, also on errors and SIGTERM).
#
#   bash tests/bench/run.sh                      full run: 0 and 10 ms, 1 GiB file
#   bash tests/bench/run.sh --quick              10 ms only, 64 MiB file
#   bash tests/bench/run.sh --latency 10 --only untar,saves,jsave
#   bash tests/bench/run.sh --targets passthrough,wb --large-mib 256
#   bash tests/bench/run.sh --json out.json --md out.md --logs DIR
#   bash tests/bench/run.sh --quick --targets passthrough,wb --only untar --repeat 5
#                                                 5 interleaved rounds: medians, min-max
#   bash tests/bench/run.sh --help               every option
# Env: AZSF_BENCH_REV=<commit>  build that commit from a clean `git archive`
#        export (build-bench-rev/) instead of the working tree, so a recorded
#        run measures committed code only (the harness and the emulator
#        still come from the working tree);
#      AZSF_BUILD=build dir (default build-bench/, configured and built here
#        unless AZSF_BENCH_NOBUILD=1); AZSF_BENCH_TIMEOUT=whole-run limit (s).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ -n ${AZSF_BENCH_REV:-} ]]; then
  rev=$(git rev-parse --verify "${AZSF_BENCH_REV}^{commit}")
  build=$PWD/build-bench-rev
  rm -rf "$build/src"
  mkdir -p "$build/src"
  git archive "$rev" | tar -x -C "$build/src"
  src=$build/src
  build=$build/obj
  export AZSF_BENCH_BUILT_FROM="commit ${rev:0:12} (clean export)"
else
  src=$PWD
  build=${AZSF_BUILD:-$PWD/build-bench}
  case $build in /*) ;; *) build=$PWD/$build ;; esac
  dirty=$(git status --porcelain -- fs cache include CMakeLists.txt | wc -l)
  export AZSF_BENCH_BUILT_FROM="working tree at $(git rev-parse --short=12 HEAD)$(
    [[ $dirty -gt 0 ]] && echo " + $dirty uncommitted file(s) in fs/ cache/ include/")"
fi
if [[ ${AZSF_BENCH_NOBUILD:-0} != 1 ]]; then
  echo "bench: building azsharefs and azsf-passthrough ($AZSF_BENCH_BUILT_FROM) in $build"
  cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build" -j"$(nproc)" --target azsharefs azsf-passthrough >/dev/null
fi
export AZSF_BUILD=$build
# SIGTERM at the limit: bench.py turns it into an exception and cleans up.
exec timeout --kill-after=120 "${AZSF_BENCH_TIMEOUT:-5400}" \
  /usr/bin/python3 tests/bench/bench.py "$@"
