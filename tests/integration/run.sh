#!/usr/bin/env bash
# Run the integration suite (real FUSE mounts of the bundled emulator) with
# Debian's python, which has pytest and pytest-timeout.
#   tests/integration/run.sh                    everything (~8 min on 2 cores)
#   tests/integration/run.sh -m 'not slow'      skip the slowest tests
#   tests/integration/run.sh -k posix -s        one module, print measured counts
# Env: AZSF_BUILD=build dir holding fs/azsharefs (default: build/);
#      AZSF_LARGE=1 for the 1 GiB large-file test instead of 256 MiB.
# Needs root (FUSE mounts, setpriv for the multi-user tests) and /dev/fuse;
# without /dev/fuse the mount tests are skipped and the summary says so.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export AZSF_BUILD=${AZSF_BUILD:-$root/build}
case $AZSF_BUILD in /*) ;; *) AZSF_BUILD=$root/$AZSF_BUILD ;; esac
if [[ ! -x $AZSF_BUILD/fs/azsharefs ]]; then
  echo "run.sh: no azsharefs under $AZSF_BUILD; build first:" >&2
  echo "  cmake -S $root -B $AZSF_BUILD && cmake --build $AZSF_BUILD -j2" >&2
  exit 1
fi
cd "$root"
exec timeout 1800 /usr/bin/python3 -m pytest -p no:cacheprovider -rfEs \
  --durations=15 tests/integration "$@"
