#!/usr/bin/env bash
# Installs what azsharefs needs to build and test on Debian 12 (idempotent):
# Debian packages through apt-get, the Node test client through npm ci.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config libfuse3-dev fuse3 libcurl4-openssl-dev
  libssl-dev libxml2-dev libcmocka-dev python3 python3-pytest python3-pytest-timeout
  python3-yaml python3-jupyter-server jupyterhub git attr fio openssl
  cloud-init systemd util-linux passwd clang-format procps)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
# node and npm may come from the machine image rather than Debian's packages.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi
if [[ -f tests/sdk/package-lock.json &&
      ! -d tests/sdk/node_modules/@azure/storage-file-share ]]; then
  echo "deps: npm ci in tests/sdk"
  (cd tests/sdk && npm ci --no-audit --no-fund --loglevel=error)
fi
