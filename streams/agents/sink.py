"""The ClickHouse sink: aggregate rows (and alerts) from the aggregates topic into ClickHouse.

The aggregates topic has one partition, and this agent is registered only where ``DW_SINK`` is
on, so exactly one worker writes: an embedded chdb directory can be opened by one process only.
Each batch is flushed (in a thread, inserts block) before its offsets are acked; the sink's
per-batch deduplication tokens make a retried or replayed batch harmless.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import ExitStack

import orjson

from distillwatch.streams import topics
from distillwatch.streams.app import app, metrics, settings
from distillwatch.streams.clickhouse.sink import BufferedSink, open_sink

log = logging.getLogger(__name__)


class Sink:
    """Opens the ClickHouse sink lazily (on the worker that holds the partition) and closes it."""

    def __init__(self) -> None:
        self._stack = ExitStack()
        self.sink: BufferedSink | None = None

    def open(self) -> BufferedSink:
        if self.sink is None:
            self.sink = self._stack.enter_context(
                open_sink(settings.effective_clickhouse_dsn, settings.clickhouse_database, dedup=True))
        return self.sink

    def write(self, rows: list[tuple[str, dict]]) -> int:
        """Buffer ``rows`` (emptying the list once they are held) and flush; raises on failure,
        with every row either still in ``rows`` or in the sink's buffer."""
        self.open()
        if rows:
            self.sink.add(rows)
            rows.clear()
        return self.sink.flush()

    def close(self) -> None:
        self._stack.close()
        self.sink = None


sink = Sink()
metrics.gauges["sink_reemitted_rows"] = lambda: sink.sink.counters.reemitted_rows if sink.sink else 0


RETRY_MAX_S = 30.0


@app.agent(topics.rows)
async def write_aggregates(stream) -> None:
    """decode → insert → ack. While ClickHouse fails, the batch is retried with backoff and no
    further batch is taken, so nothing is acked unwritten: the backlog waits in Kafka (no loss,
    bounded memory) and the deduplication tokens make the retries harmless."""
    loop = asyncio.get_running_loop()
    async for batch in stream.take_events(settings.batch_max, within=1.0):
        rows = [tuple(r) for event in batch for r in orjson.loads(event.message.value)]
        n = len(rows)
        delay = 0.5
        while True:
            try:
                metrics.inc("sink_rows", await loop.run_in_executor(None, sink.write, rows))
                break
            except Exception as exc:
                metrics.inc("sink_failures")
                log.warning("ClickHouse sink: a batch of %d rows is not written (%s); retrying in %.1f s",
                            n, exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, RETRY_MAX_S)


@app.on_before_shutdown.connect
def flush_on_shutdown(sender, **kwargs) -> None:
    """SIGTERM: whatever the sink still buffers (a failed insert's rows) gets a last try."""
    if sink.sink is not None:
        try:
            sink.close()
        except Exception:
            metrics.inc("sink_failures")
            log.exception("ClickHouse sink: rows lost at shutdown")


@app.on_partitions_assigned.connect
async def open_sink_early(sender, assigned, **kwargs) -> None:
    """Open ClickHouse (and start the embedded engine) as soon as this worker gets the
    aggregates partition, not in the middle of the first burst of traffic: starting chdb takes
    seconds of CPU that would otherwise delay the first alerts."""
    if any(tp.topic == settings.rows_topic for tp in assigned):
        try:
            await asyncio.get_running_loop().run_in_executor(None, sink.open)
        except Exception as exc:  # ClickHouse down: the agent retries with its first batch
            metrics.inc("sink_failures")
            log.warning("ClickHouse sink: cannot open yet (%s); retrying with the first batch", exc)


@app.on_partitions_revoked.connect
async def close_sink(sender, revoked, **kwargs) -> None:
    """Release the chdb directory so the worker that gets the partition next can open it."""
    if any(tp.topic == settings.rows_topic for tp in revoked) and sink.sink is not None:
        await asyncio.get_running_loop().run_in_executor(None, sink.close)
