"""Where the pipeline's rows go: :mod:`streams.sinks.clickhouse` (imported on demand, it is heavy)."""
