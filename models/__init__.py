"""distillwatch's detection core: pure Python, no Kafka, Faust or ClickHouse imports.

The streaming pipeline and offline replay run exactly this code, so their alerts are identical.

- ``config``: every tuning number (``AccountConfig``, ``ClusterConfig``, ``DetectorConfig``);
- ``event``: the request event contract; ``features``: the account feature vector (add a feature here);
- ``account_state`` / ``account_scoring`` / ``account_processor``: the account stage;
- ``links``: the messages from the account stage to the cluster stage;
- ``cluster_state`` / ``cluster_scoring`` / ``cluster_processor``: the cluster stage;
- ``report``: alerts, reasons and aggregate rows of both stages; ``alerts``: ids, severities, thresholds;
- ``engine``: both stages in one process (replay); ``snapshot``: processor state for changelogs;
- helpers: ``sketches``, ``peers``, ``partitioning``, ``riverstate``, ``jsonsafe``, ``timespans``.
"""
