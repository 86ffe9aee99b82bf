"""Gauges read at scrape time (served by :mod:`distillwatch.streams.web.health`) and the periodic log line."""

from __future__ import annotations

import logging

from distillwatch.streams.agents.accounts import stage
from distillwatch.streams.app import app, metrics, settings

log = logging.getLogger(__name__)


def consumer_lag() -> float:
    """Records on the assigned requests partitions not yet applied (highwater - next offset)."""
    consumer = app.consumer
    lag = 0
    for tp in consumer.assignment():
        if tp.topic == settings.requests_topic:
            high = consumer.highwater(tp)
            part = stage.parts.get(tp.partition)
            if high is not None:
                lag += max(0, high - (part.offset + 1 if part else 0))
    return float(lag)


def assigned_partitions() -> float:
    return float(sum(1 for tp in app.consumer.assignment() if tp.topic == settings.requests_topic))


def held_events() -> float:
    """Events the assigned partitions hold until every source's mark has passed them (memory)."""
    return float(sum(len(part.proc.order) for part in stage.parts.values()))


metrics.gauges["consumer_lag"] = consumer_lag
metrics.gauges["held_events"] = held_events
metrics.gauges["assigned_partitions"] = assigned_partitions


@app.timer(settings.metrics_log_s)
async def log_counters() -> None:
    log.info("distillwatch: %s", metrics.line())
