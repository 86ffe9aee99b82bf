"""Re-emitted rows on the real embedded ClickHouse: a row sent again after a crash lands in a
differently-cut batch (another deduplication token), which the roll-up views would count twice.
The streaming sink drops it by its natural key, also after a restart (memory seeded from ClickHouse)."""

from __future__ import annotations

import logging

from distillwatch.streams.clickhouse.sink import BufferedSink, ClickHouseWriter, RecentKeys
from distillwatch.streams.logthrottle import Throttle
from tests.streams.test_clickhouse_sink import ALERT, client, count, hour_requests, minute_row  # noqa: F401


def test_a_recut_batch_doubles_the_rollups_without_key_dedup(client):  # noqa: F811
    rows = [minute_row(f"acc-{a}", m) for a in range(3) for m in range(10)]
    sink = BufferedSink(ClickHouseWriter(client))
    sink.add(rows[:20])
    sink.flush()
    sink.add(rows[15:])  # the uncommitted tail read again, cut differently
    sink.flush()
    assert count(client, "account_minute", final=True) == 30
    assert hour_requests(client) == 350, "the five re-emitted rows are summed twice"


def test_reemitted_rows_are_dropped_before_a_batch(client):  # noqa: F811
    rows = [minute_row(f"acc-{a}", m) for a in range(3) for m in range(10)] + [("alert", ALERT)]
    sink = BufferedSink(ClickHouseWriter(client), recent=RecentKeys())
    sink.add(rows[:20])
    sink.flush()
    sink.add(rows[15:])
    sink.flush()
    assert sink.counters.reemitted_rows == 5
    assert (count(client, "account_minute"), hour_requests(client), count(client, "alerts")) == (30, 300, 1)


def test_a_restarted_sink_remembers_what_its_predecessor_wrote(client):  # noqa: F811
    rows = [minute_row(f"acc-{a}", m) for a in range(3) for m in range(10)] + [("alert", ALERT)]
    first = BufferedSink(ClickHouseWriter(client), recent=RecentKeys())
    first.add(rows[:20])
    first.flush()  # ... and the process dies before its offsets are committed
    recent = RecentKeys()
    assert recent.seed(client) == 20
    second = BufferedSink(ClickHouseWriter(client), recent=recent)
    second.add(rows[10:])
    second.flush()
    assert second.counters.reemitted_rows == 10
    assert (count(client, "account_minute"), hour_requests(client), count(client, "alerts")) == (30, 300, 1)


def test_recent_keys_are_bounded():
    recent = RecentKeys(limit=100)
    assert all(recent.fresh("account_minute", minute_row("acc", m)[1]) for m in range(1000))
    assert not recent.fresh("account_minute", minute_row("acc", 999)[1])
    assert recent.fresh("account_minute", minute_row("acc", 0)[1]), "the oldest keys are forgotten"
    assert sum(len(s) for s in recent._seen.values()) <= 100


def test_a_flood_of_connection_errors_becomes_one_line_per_interval():
    now = [0.0]
    throttle = Throttle(every_s=10.0, clock=lambda: now[0])
    shown = []
    for i in range(6000 * 30):  # 6,000 lines a second for 30 s, as in the outage
        now[0] = i / 6000
        record = logging.LogRecord("aiokafka.conn", logging.ERROR, __file__, 1, "Unable connect to %r", ("n1",),
                                   None)
        if throttle.filter(record):
            shown.append(record.getMessage())
    assert len(shown) == 3
    assert shown[1] == "Unable connect to 'n1' [59999 similar line(s) suppressed in the last 10 s]"
    other = logging.LogRecord("aiokafka.conn", logging.ERROR, __file__, 1, "another problem", (), None)
    assert throttle.filter(other), "a different message still shows at once"
