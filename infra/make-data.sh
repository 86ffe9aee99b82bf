#!/usr/bin/env bash
# `make data`: regenerate the recorded streams in data/ (deterministic: same bytes every time).
set -euo pipefail
cd "$(dirname "$0")/.."
dw=.venv/bin/distillwatch
$dw simulate --out data/demo.jsonl.gz --labels data/demo-labels.csv --seed 7 --accounts 120 --days 1
$dw simulate --out data/smoke.jsonl --labels data/smoke-labels.csv --seed 11 --accounts 60 --hours 2 \
  --bad-fraction 0.03 --late-fraction 0.02 \
  --mix enterprise_backend=0,batch_job=0,launch_customer=0,bulk_harvest=0,rate_limit_sharding=0,release_chasing=0
