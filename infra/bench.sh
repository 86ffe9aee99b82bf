#!/usr/bin/env bash
# `make bench`: the benchmark suite (not part of `make test`); writes bench/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f bench/run.py ]; then exec .venv/bin/python bench/run.py "$@"; fi
echo "bench: no benchmark suite yet (see issue 6)"
