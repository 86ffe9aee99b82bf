"""The one Faust app. Topics live in :mod:`distillwatch.streams.topics`, tables in
:mod:`distillwatch.streams.state`, agents in :mod:`distillwatch.streams.agents`; everything depends on this
module, never the other way round.

Values are raw bytes everywhere (orjson or struct inside), never Faust's pickle codec. Table state
lives where ``DW_STORE`` says (:data:`TABLE_STORES`): in memory, rebuilt from the changelogs at
start-up, or in local RocksDB databases under ``DATADIR`` (:mod:`distillwatch.streams.table_store`).
"""

from __future__ import annotations

from pathlib import Path

import faust

from distillwatch.streams import table_store
from distillwatch.streams.kafka_client import faust_credentials
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import load

settings = load()
metrics = Metrics({"account": settings.requests_partitions, "cluster": settings.cluster_partitions})
DATADIR = Path(settings.data_dir) / "faust" / f"{settings.app_id}-{settings.web_port}"
DATADIR.mkdir(parents=True, exist_ok=True)

MAX_RECORD_BYTES = 16 * 1024 * 1024  # cluster snapshots are one record each
# DW_STORE -> the URL scheme of the state tables' store (the URL's path names the table's files)
TABLE_STORES = {"memory": "memory", "rocksdb": table_store.SCHEME}
if settings.store not in TABLE_STORES:
    raise SystemExit(f"DW_STORE={settings.store!r} is not a table store: use one of {', '.join(TABLE_STORES)}")

app = faust.App(
    settings.app_id,
    broker=[f"kafka://{h}" for h in settings.kafka_bootstrap_servers.split(",")],
    store="memory://",
    autodiscover=False,
    key_serializer="raw",
    value_serializer="raw",
    broker_credentials=faust_credentials(settings),
    topic_replication_factor=settings.kafka_replication_factor,
    topic_partitions=settings.requests_partitions,
    table_standby_replicas=settings.standby_replicas,
    producer_max_request_size=MAX_RECORD_BYTES,
    consumer_max_fetch_size=MAX_RECORD_BYTES,
    broker_commit_interval=1.0,
    # a killed worker's partitions move on after this long (Faust's default is a minute)
    broker_session_timeout=settings.session_timeout_s,
    broker_heartbeat_interval=min(3.0, settings.session_timeout_s / 4),
    web_host="127.0.0.1" if settings.web_bind in ("0.0.0.0", "::") else settings.web_bind,
    web_bind=settings.web_bind,
    web_port=settings.web_port,
    datadir=str(DATADIR),
)
