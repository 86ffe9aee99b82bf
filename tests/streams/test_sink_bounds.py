"""Issue 14, 1: whatever arrives, the per-minute sums never make an insert fail (real chdb)."""

from __future__ import annotations

import io

import orjson

from distillwatch.streams.clickhouse.sink import ClickHouseWriter, open_sink
from distillwatch.streams.replay import replay
from tests.streams.test_clickhouse_sink import minute_row


def test_ten_million_token_events_sum_exactly(ch, tmp_path):
    """3,000 events at the 10,000,000-token limit from two accounts in one minute: exact sums."""
    ch.client.command("TRUNCATE TABLE account_minute")
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(orjson.dumps({
        "event_id": f"e{i}", "ts": 1_770_969_600 + i * 0.01, "account_id": f"acct-{i % 2}", "model": "m",
        "input_tokens": 10_000_000, "output_tokens": 10_000_000, "reasoning_tokens": 10_000_000, "status": 200,
    }) for i in range(3000)) + b"\n")
    with open_sink(ch.dsn, ch.database) as sink:
        summary = replay([str(path)], io.BytesIO(), rows_sink=sink.write)
        sink.flush()
    assert summary.events == 3000
    row = ch.client.query("SELECT sum(requests), sum(input_tokens), sum(output_tokens), sum(reasoning_tokens) "
                          "FROM account_minute FINAL").result_rows[0]
    assert row == (3000, 3 * 10**10, 3 * 10**10, 3 * 10**10)


def test_an_out_of_range_value_is_stored_at_its_bound_not_lost_with_its_batch(ch):
    ch.client.command("TRUNCATE TABLE account_minute")
    writer = ClickHouseWriter(ch.client)
    rows = [minute_row("a", 0)[1], {**minute_row("b", 0)[1], "requests": 2**40, "input_tokens": 2**70},
            {**minute_row("c", 0)[1], "distinct_ips": -5}]
    writer.insert("account_minute", rows, "t-bounds")
    got = ch.client.query("SELECT account_id, requests, input_tokens, distinct_ips FROM account_minute "
                          "ORDER BY account_id").result_rows
    assert got == [("a", 10, 100, 2), ("b", 2**32 - 1, 2**64 - 1, 2), ("c", 10, 100, 0)]
    assert writer.clamped == 3
