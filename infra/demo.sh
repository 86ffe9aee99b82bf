#!/usr/bin/env bash
# `make demo`: the whole system on the embedded defaults, start to finish.
#   1. a local Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS points at one)
#   2. a streaming worker (Faust) with the ClickHouse sink into the embedded engine
#   3. the recorded stream data/demo.jsonl.gz published at 2,880x event time (a day in 30 s)
#   4. alerts printed live as the worker raises them
#   5. the worker stopped cleanly (sink flushed), then an analyst's ClickHouse query
# Every run uses fresh topics and a fresh database under .run/demo, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
dw=.venv/bin/distillwatch
run=$(date +%s)
export DW_DATA_DIR=$PWD/.run/demo
export DW_APP_ID=demo-$run
export DW_REQUESTS_TOPIC=demo-$run.requests DW_ALERTS_TOPIC=demo-$run.alerts
export DW_DEAD_LETTER_TOPIC=demo-$run.dead-letter DW_LINKS_TOPIC=demo-$run.links DW_ROWS_TOPIC=demo-$run.rows
export DW_CAMPAIGNS_TOPIC=demo-$run.campaigns
export DW_WEB_PORT=${DW_WEB_PORT:-6066} DW_SINK=1
SPEED=${DEMO_SPEED:-2880}
rm -rf "$DW_DATA_DIR"; mkdir -p "$DW_DATA_DIR"

metrics() {  # the worker's Prometheus page
  .venv/bin/python -c "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:$DW_WEB_PORT/metrics', timeout=2).read().decode())"
}

started_kafka=0
worker=""
tail_pid=""
cleanup() {
  [ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null || true
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then
    kill -TERM "$worker" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$worker" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$worker" 2>/dev/null || true
  fi
  if [ "$started_kafka" = 1 ]; then infra/kafka/kafka.sh down >/dev/null || true; fi
}
trap cleanup EXIT

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  if ! infra/kafka/kafka.sh status >/dev/null 2>&1; then
    infra/kafka/kafka.sh up
    started_kafka=1
  fi
  export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:${KAFKA_PORT:-19092}
fi

echo "== worker (log: $DW_DATA_DIR/worker.log)"
$dw worker --loglevel warning >"$DW_DATA_DIR/worker.log" 2>&1 &
worker=$!
for _ in $(seq 1 120); do
  metrics >/dev/null 2>&1 && break
  kill -0 "$worker" 2>/dev/null || { tail -n 30 "$DW_DATA_DIR/worker.log"; echo "demo: the worker exited" >&2; exit 1; }
  sleep 0.5
done

echo "== alerts, live (error and critical page on-call; warnings are for analysts)"
$dw alerts tail --from-beginning --timeout 20 &
tail_pid=$!

echo "== publishing data/demo.jsonl.gz at ${SPEED}x event time"
# its progress lines go to a log (they would interleave with the live alerts); its summary is shown
$dw publish data/demo.jsonl.gz --speed "$SPEED" --batch 50 2>"$DW_DATA_DIR/publish.log" \
  || { cat "$DW_DATA_DIR/publish.log" >&2; exit 1; }
tail -n 1 "$DW_DATA_DIR/publish.log"

# The worker flushes its partitions after a few idle seconds; the tail stops 20 s after the
# last alert.
wait "$tail_pid" || true
tail_pid=""
echo "== metrics"
metrics | grep -E '^distillwatch_(events_in_total|bad_records_total|late_events|alerts_total|sink_rows_total|sink_failures_total|consumer_lag)[ {]' || true

echo "== stopping the worker (flushes the ClickHouse sink)"
kill -TERM "$worker"
for _ in $(seq 1 60); do kill -0 "$worker" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$worker" 2>/dev/null; then  # nothing may outlive the demo
  echo "demo: the worker did not stop within 30 s (log: $DW_DATA_DIR/worker.log); killing it" >&2
  kill -9 "$worker" 2>/dev/null || true
fi
worker=""

echo "== analyst: the top clusters of the day, from ClickHouse"
$dw query top_clusters --param start="2026-02-09 00:00:00" --param end="2026-02-10 00:00:00" --param limit=8
echo "== analyst: alerts by day and severity"
$dw query alert_volume --param start="2026-02-09 00:00:00" --param end="2026-02-11 00:00:00"
echo "demo: done. Explore further with: $dw query --list   (DW_DATA_DIR=$DW_DATA_DIR)"
