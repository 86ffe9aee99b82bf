#!/usr/bin/env bash
# Debian's headless-capable Chromium, for the on-call page's browser test (tests/streams/test_web.py).
# Idempotent: returns at once when /usr/bin/chromium is already there. Needs root (apt-get).
#
#   infra/chromium.sh        # prints the browser's path
set -euo pipefail

browser=/usr/bin/chromium
if [ ! -x "$browser" ]; then
  [ "$(id -u)" = 0 ] || { echo "chromium.sh: $browser is missing; run as root to install it" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "$browser"
