#!/usr/bin/env bash
# Debian's Prometheus Alertmanager (and amtool), for the paging test (tests/alerting/test_alertmanager.py).
# Idempotent: returns at once when the binary is already there. Needs root (apt-get) to install.
#
#   infra/alertmanager/install.sh        # prints the alertmanager binary's path
set -euo pipefail

binary=/usr/bin/prometheus-alertmanager
if [ ! -x "$binary" ]; then
  [ "$(id -u)" = 0 ] || { echo "install.sh: $binary is missing; run as root to install it" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-cache show prometheus-alertmanager >/dev/null 2>&1; then
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
fi
echo "$binary"
