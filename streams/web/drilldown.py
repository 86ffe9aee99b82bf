"""Drill-down data for one account or one cluster: the saved ClickHouse queries an investigation
starts with (``streams/clickhouse/queries``), run around the moment of the subject's alert.

Only saved queries are run, never SQL built here, so what the page shows is exactly what
``distillwatch query NAME`` shows an analyst for the same parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from clickhouse_connect.driver.client import Client

from distillwatch.models.event import parse_time as event_time
from distillwatch.streams.clickhouse.client import connect_readonly
from distillwatch.streams.clickhouse.saved_queries import run_saved_query
from distillwatch.streams.settings import Settings

TIMELINE_MINUTES = 60  # account_timeline: minutes either side of the alert
DAYS_BEFORE = 6  # account_days: days before the alert's day
GROWTH_HOURS = 24  # cluster_growth: hours either side of the alert


class Unavailable(Exception):
    """ClickHouse cannot be read from this worker; the message says where the data is."""


def client_for(cfg: Settings, holds_sink: bool) -> Client:
    """The ClickHouse client this worker may use, or :class:`Unavailable`.

    An embedded (chdb) directory is opened by one process only, the worker whose sink holds the
    aggregates partition: opening it anywhere else would fail, or worse, take the directory away
    from the sink. A ClickHouse server can be read from every worker. The client is read-only
    (``readonly=1`` and the query limits): the page never writes.
    """
    dsn = cfg.effective_clickhouse_dsn
    if dsn.startswith("chdb:") and not holds_sink and cfg.query_url:
        dsn = cfg.query_url  # the sink worker's read-only endpoint (distillwatch.streams.web.chquery)
    elif dsn.startswith("chdb:") and not holds_sink:
        raise Unavailable(
            f"ClickHouse is embedded ({dsn}) and only the worker that writes it may read it: the one "
            f"running with DW_SINK=1 that holds the {cfg.rows_topic} partition. Open this page on that "
            "worker's port, set DW_QUERY_URL to that worker's query endpoint, or run a ClickHouse server "
            "(DW_CLICKHOUSE_DSN=http://…) so every worker can read it.")
    try:
        return connect_readonly(dsn, cfg.clickhouse_database, cfg.query_timeout_s, cfg.query_max_rows)
    except RuntimeError as exc:
        raise Unavailable(str(exc)) from exc


def parse_time(text: str, name: str = "at") -> datetime:
    """An RFC 3339 time (as in alerts, ``Z`` allowed) as a UTC datetime; ``ValueError`` says what is wrong.

    The parsing is the request-event contract's own (:func:`distillwatch.models.event.parse_time`), so the page
    accepts exactly the times the pipeline does."""
    return datetime.fromtimestamp(event_time(text, name), UTC)


def _param(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S")


def _rows(client: Client, name: str, params: dict[str, object]) -> list[dict]:
    result = run_saved_query(client, name, params)
    return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]


def account(client: Client, account_id: str, at: datetime) -> dict[str, list[dict]]:
    """Minute by minute around ``at`` (the chart) and day by day in the week before it."""
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "account_timeline": _rows(client, "account_timeline", {
            "account_id": account_id, "at": _param(at), "minutes": TIMELINE_MINUTES}),
        "account_days": _rows(client, "account_days", {
            "account_id": account_id, "start": _param(day - timedelta(days=DAYS_BEFORE)),
            "end": _param(day + timedelta(days=1))}),
    }


def cluster(client: Client, cluster_id: str, at: datetime, window_start: datetime) -> dict[str, list[dict]]:
    """Who is in the cluster, what else its members share during the alert's window, and how it
    grew hour by hour (the chart)."""
    span = timedelta(hours=GROWTH_HOURS)
    return {
        "cluster_members": _rows(client, "cluster_members", {"cluster_id": cluster_id}),
        "cluster_links": _rows(client, "cluster_links", {
            "cluster_id": cluster_id, "start": _param(window_start), "end": _param(at + timedelta(minutes=1))}),
        "cluster_growth": _rows(client, "cluster_growth", {
            "cluster_id": cluster_id, "start": _param(at - span), "end": _param(at + span)}),
    }
