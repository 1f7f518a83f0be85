#!/usr/bin/env bash
# Builds azsharefs and mounts a share, then shows it working.
#   bash scripts/quickstart.sh          mount (emulator unless AZSF_CONN_FILE is set)
#   bash scripts/quickstart.sh stop     unmount and stop the emulator
# With a real account: AZSF_CONN_FILE=/etc/azsharefs/conn AZSF_SHARE=myshare.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=${AZSF_QUICKSTART_DIR:-/tmp/azsharefs-quickstart}
mnt=$work/mnt

stop() {
  if mountpoint -q "$mnt" 2>/dev/null; then
    fusermount3 -u "$mnt" && echo "unmounted $mnt"
  fi
  if [[ -f $work/emulator.pid ]]; then
    kill "$(cat "$work/emulator.pid")" 2>/dev/null && echo "emulator stopped"
    rm -f "$work/emulator.pid"
  fi
}
if [[ ${1:-} == stop ]]; then
  stop
  exit 0
fi

bash scripts/deps.sh
echo "building into build/"
bash scripts/build.sh build
stop >/dev/null 2>&1 || true
mkdir -p "$work" "$mnt"
chmod 700 "$work"

if [[ -n ${AZSF_CONN_FILE:-} ]]; then
  conn=$AZSF_CONN_FILE
  share=${AZSF_SHARE:?set AZSF_SHARE to the share name}
else
  share=demo
  conn=$work/conn
  mkdir -p "$work/data"
  setsid tests/emulator/azfiles-emulator --port 0 --data "$work/data" \
    >"$work/emulator.out" 2>"$work/emulator.log" </dev/null &
  echo $! >"$work/emulator.pid"
  for _ in $(seq 100); do
    grep -q '^listening on ' "$work/emulator.out" 2>/dev/null && break
    sleep 0.1
  done
  url=$(awk '/^listening on /{print $3; exit}' "$work/emulator.out")
  [[ -n $url ]] || { echo "quickstart: the emulator did not start"; cat "$work/emulator.log"; exit 1; }
  echo "emulator: $url (data in $work/data)"
  /usr/bin/python3 - "$url" "$share" "$conn" <<'PY'
import os, sys
sys.path.insert(0, "tests/integration")
import emulator
url, share, conn = sys.argv[1:4]
e = emulator.Emulator()
e.url = url
e.base = url.rsplit("/", 1)[0]
e.create_share(share)
e.write_conn_file(conn)
PY
fi

build/fs/azsharefs "$mnt" -o "share=$share,conn_file=$conn,cache_dir=$work/cache"
echo "mounted share '$share' at $mnt"
echo
set -x
mkdir -p "$mnt/notebooks/$(id -un)"
echo "hello from $(hostname) at $(date -u +%FT%TZ)" >"$mnt/notebooks/$(id -un)/hello.txt"
chmod 600 "$mnt/notebooks/$(id -un)/hello.txt"
ls -l "$mnt/notebooks/$(id -un)"
cat "$mnt/notebooks/$(id -un)/hello.txt"
df -h "$mnt"
set +x
if [[ -z ${AZSF_CONN_FILE:-} ]]; then
  echo "requests the emulator served:"
  curl -s "${url%/*}/_emulator/stats"; echo
fi
echo
echo "the share stays mounted at $mnt; stop it with: bash scripts/quickstart.sh stop"
