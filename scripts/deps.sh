#!/usr/bin/env bash
# Installs the Debian 12 packages pushlab needs, only those missing.
#   scripts/deps.sh build   - compiler, meson, libraries
#   scripts/deps.sh test    - the above plus curl, jq, tcpdump, wrk, chromium and Node.js for the tests
set -euo pipefail
want=(gcc meson ninja-build pkg-config libmicrohttpd-dev libwebsockets-dev
      libcurl4-openssl-dev libssl-dev libjansson-dev libev-dev libhiredis-dev
      libhttp-parser-dev)
if [ "${1:-build}" = test ]; then
  want+=(curl jq tcpdump chromium python3 clang-format clang libclang-rt-14-dev nginx libnginx-mod-nchan openssl
        libnss3-tools prometheus redis-server wrk)
  command -v node >/dev/null && command -v npm >/dev/null || want+=(nodejs npm)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "pushlab: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Packages such as nginx and redis-server start a system service when
# installed; tests start their own servers on free ports, so keep the
# system's from starting: policy-rc.d answering 101 ("action forbidden"),
# which invoke-rc.d and deb-systemd-invoke obey. One already there that
# says otherwise is set aside for the install and put back.
rcd=/usr/sbin/policy-rc.d
if ! { [ -x $rcd ] && grep -qx 'exit 101' $rcd; }; then
  [ -e $rcd ] && $sudo mv $rcd $rcd.pushlab-saved
  printf '#!/bin/sh\nexit 101\n' | $sudo tee $rcd >/dev/null
  $sudo chmod +x $rcd
  trap '$sudo rm -f $rcd; [ -e $rcd.pushlab-saved ] && $sudo mv $rcd.pushlab-saved $rcd' EXIT
fi
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
