"""Everything that talks to ClickHouse, split by concern (as clickhouse-connect splits its driver).

- :mod:`~distillwatch.streams.clickhouse.client`: DSNs, :func:`connect`, :func:`close_embedded`
  (one chdb engine per process);
- :mod:`~distillwatch.streams.clickhouse.schema`: the versioned schema (``migrations/NNN_*.sql``), apply and status;
- :mod:`~distillwatch.streams.clickhouse.saved_queries`: the saved investigation queries (``queries/NAME.sql``);
- :mod:`~distillwatch.streams.clickhouse.sink`: the buffered, batched, retried and idempotent sink.

The SQL files are package data, read with :mod:`importlib.resources`: an installed wheel finds them.
The submodules import ``clickhouse_connect`` (heavy), so import them where they are needed.
"""
