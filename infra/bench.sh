#!/usr/bin/env bash
# `make bench`: the benchmark suite (not part of `make test`); writes bench/results.json and
# bench/throughput_memory.png, prints a table. See docs/performance.md.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f bench/run.py ]; then echo "bench: no benchmark suite yet (see issue 6)"; exit 0; fi
# The plot needs matplotlib, a benchmark-only dependency: installed into the venv on first use.
if ! .venv/bin/python -c 'import matplotlib' 2>/dev/null; then
  echo "bench: installing matplotlib into .venv (plot only; once)"
  .venv/bin/pip install --quiet 'matplotlib>=3.8' || echo "bench: matplotlib install failed; the plot is skipped" >&2
fi
exec .venv/bin/python bench/run.py "$@"
