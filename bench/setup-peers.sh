#!/usr/bin/env bash
# Installs the peer tools the benchmark compares with, each apart from the project's own
# environment (sslyze and checkdmarc pin incompatible versions of cryptography).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
peers="$here/.peers"
mkdir -p "$peers"

if ! command -v nmap >/dev/null || ! command -v testssl >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nmap testssl.sh >/dev/null
fi
for tool in sslyze:6.3.1 checkdmarc:6.0.4; do
  name="${tool%%:*}"; version="${tool##*:}"
  if [ ! -x "$peers/$name/bin/$name" ]; then
    python3 -m venv "$peers/$name"
    "$peers/$name/bin/pip" install --quiet "$name==$version"
  fi
done
echo "peers ready in $peers"
