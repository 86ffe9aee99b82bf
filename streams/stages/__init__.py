"""The two stage drivers as plain Python: Kafka records in, outputs and state records out.

:class:`~distillwatch.streams.stages.accounts.AccountStage` (requests → account processors → alerts, links,
rows, dead letters) and :class:`~distillwatch.streams.stages.clusters.ClusterStage` (links → cluster
processors → alerts, rows) hold everything that makes recovery exact: redelivered offsets skipped,
torn batches resumed, idle partitions flushed and woken, link messages deduplicated by position,
state restored from the table's mapping. Nothing here imports Faust: the settings, the table's
``MutableMapping``, a :class:`~distillwatch.streams.metrics.Metrics` and an
:class:`~distillwatch.streams.stages.outbox.Outbox` are handed in, so ``tests/streams/test_stages.py`` feeds
them from memory, and the agents in :mod:`distillwatch.streams.agents` only wire them to topics,
timers and rebalances.
"""
