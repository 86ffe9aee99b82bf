#!/usr/bin/env bash
# `make test`: the whole suite against a real broker (started by the pytest session fixture on
# its own port, or KAFKA_BOOTSTRAP_SERVERS) and the embedded ClickHouse engine.
set -euo pipefail
cd "$(dirname "$0")/.."
infra/kafka/kafka.sh fetch
exec .venv/bin/python -m pytest -q "$@"
