#!/usr/bin/env bash
# The whole test suite, as CI runs it: style checks, unit tests (CTest +
# cmocka), the emulator's own tests, the Azure SDK fidelity test, and the
# integration suites that mount for real; then the unit and client/mount
# suites again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   bash scripts/test.sh            everything
#   AZSF_QUICK=1 bash scripts/test.sh   skip the sanitizer pass
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bash scripts/deps.sh || { echo "test: installing dependencies failed"; exit 1; }

failed=()
step() { # name, command...
  local name=$1
  shift
  echo "==== $name"
  local t0=$SECONDS
  if "$@"; then
    echo "==== $name: ok ($((SECONDS - t0)) s)"
  else
    echo "==== $name: FAILED ($((SECONDS - t0)) s)"
    failed+=("$name")
  fi
}
pytest() { timeout 1200 /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"; }

step checksrc bash scripts/checksrc.sh
step build bash scripts/build.sh build -DAZSF_WERROR=ON
step unit ctest --test-dir build --output-on-failure --timeout 120
step emulator pytest tests/emulator
[[ -d tests/sdk ]] && step sdk bash tests/sdk/run.sh
export AZSF_BUILD=$root/build
step integration pytest tests/integration
[[ -d tests/provision ]] && step provision pytest tests/provision

if [[ -z ${AZSF_QUICK:-} ]]; then
  step build-asan bash scripts/build.sh build-asan -DAZSF_WERROR=ON -DAZSF_SANITIZE=ON
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  step unit-asan ctest --test-dir build-asan --output-on-failure --timeout 300
  AZSF_BUILD=$root/build-asan step integration-asan \
    pytest tests/integration/test_client.py tests/integration/test_basic.py \
    tests/integration/test_crash.py tests/integration/test_cache_counts.py
fi

echo
if ((${#failed[@]})); then
  echo "test: FAILED steps: ${failed[*]}"
  exit 1
fi
echo "test: all steps passed"
