"""Faust agents; importing this package registers them with :data:`distillwatch.streams.app.app`.

The ClickHouse sink agent is registered only where ``DW_SINK`` is on (one process may open an
embedded chdb directory, and the aggregates topic has one partition, so one worker holds it).
"""

from distillwatch.streams.agents import accounts, campaigns, clusters, monitor  # noqa: F401
from distillwatch.streams.app import settings
from distillwatch.streams.web import health, views  # noqa: F401  (/metrics, /healthz, /readyz; the on-call page)

if settings.sink_enabled:
    from distillwatch.streams.agents import sink  # noqa: F401
