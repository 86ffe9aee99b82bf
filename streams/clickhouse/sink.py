"""The ClickHouse sink: buffered, batched, bounded, retried and idempotent inserts.

Rows arrive as ``(kind, row)`` pairs from the detection core (``account_minute``,
``cluster_minute``, ``cluster_member``) and alerts as ``("alert", alert)``. They are buffered per
table and inserted column-oriented in large batches, because ClickHouse wants few big inserts
(each insert is a new part on disk) and column-oriented data skips the pivot in the driver.

Idempotency: every batch is sealed once and carries ``insert_deduplication_token`` = a hash of its
rows, so a retry after an ambiguous failure (timeout after commit) or a re-replay of the same
stream is dropped by the server, from the table and from its materialized views alike; the
tables are ReplacingMergeTree on their natural keys as a second line (read them with FINAL).

Exactly once across redeliveries: a token only dedups a batch sealed identically, and a row
re-emitted after a crash (the sink's own uncommitted records read again, or a stage's outputs sent
again before its state was) lands in a differently-cut batch. The roll-up views sum whatever is
inserted, so :class:`RecentKeys` drops a row whose natural key was already written before it
reaches a batch; after a restart it is seeded from the rows ClickHouse received recently.

Failure (after Quix Streams' sinks): a flush that fails after its retries raises
:class:`SinkError` and keeps the sealed batches, so the caller does not commit its offsets and the
next flush retries the very same batches with the same tokens. Memory stays bounded because the
caller flushes every batch it takes (the sink agent) or every full batch (replay).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import itemgetter
from typing import Protocol

import orjson
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError

from distillwatch.streams.clickhouse.client import connect
from distillwatch.streams.clickhouse.schema import apply_migrations

log = logging.getLogger(__name__)

ROW_TABLES = {
    "account_minute": "account_minute",
    "cluster_minute": "cluster_minute",
    "cluster_member": "cluster_member",
    "campaign_member": "campaign_member",
    "alert": "alerts",
    "suppression": "suppressions",  # audit rows of `distillwatch suppress` (streams/actions.py)
    "incident_action": "incident_actions",  # ack / resolve / verdict (streams/actions.py)
}
DEFAULT_BATCH_ROWS = 50_000
# The natural key of each table (its ReplacingMergeTree sorting key, less the columns the key
# implies): the identity of a row. Each key is emitted once per stream (replay writes each once).
NATURAL_KEYS = {
    "account_minute": ("account_id", "minute"),
    "cluster_minute": ("cluster_id", "minute"),
    "cluster_member": ("cluster_id", "snapshot_at", "account_id"),
    "campaign_member": ("campaign_id", "account_id", "snapshot_at"),
    "alerts": ("alert_id",),
}
# Keys remembered per table. A re-emitted row arrives within one restart of its first copy (the
# uncommitted tail of a topic); a million keys is minutes of full-speed traffic, ~60 MB.
RECENT_KEYS = 1_000_000
SEED_WINDOW_S = 3600  # after a restart, rows inserted this recently seed the memory
# Server errors worth retrying: the insert may succeed later unchanged (TOO_MANY_PARTS,
# MEMORY_LIMIT_EXCEEDED, TIMEOUT_EXCEEDED, SOCKET_TIMEOUT, NETWORK_ERROR, TABLE_IS_READ_ONLY,
# TOO_MANY_SIMULTANEOUS_QUERIES, UNEXPECTED_END_OF_FILE, KEEPER_EXCEPTION).
RETRYABLE_CODES = frozenset({252, 241, 159, 209, 210, 242, 202, 32, 999})
INSERT_SETTINGS = {"deduplicate_blocks_in_dependent_materialized_views": 1, "async_insert": 0}


class SinkError(Exception):
    """A flush failed for good (retries exhausted, or an error retrying cannot fix)."""


class Writer(Protocol):
    """Inserts one sealed batch; raising means the batch may or may not have landed."""

    def insert(self, table: str, rows: list[dict], token: str) -> None: ...


def is_retryable(exc: Exception) -> bool:
    """Connection trouble and transient server states, not bad data or a wrong schema."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DatabaseError) and getattr(exc, "code", None) in RETRYABLE_CODES


# -- rows to columns -------------------------------------------------------------------------------


def _to_datetime64(v: object) -> datetime:
    if isinstance(v, str):
        return datetime.fromisoformat(v)
    return datetime.fromtimestamp(float(v), UTC)


def _to_json(v: object) -> str:
    return v if isinstance(v, str) else orjson.dumps(v).decode()


_INT_TYPE = re.compile(r"\b(U?)Int(8|16|32|64)\b")


def int_bounds(ch_type: str) -> tuple[int, int] | None:
    """The range of an integer column type (also inside ``SimpleAggregateFunction(sum, UInt64)``).

    >>> int_bounds("UInt32"), int_bounds("SimpleAggregateFunction(sum, Int8)"), int_bounds("Float64")
    ((0, 4294967295), (-128, 127), None)
    """
    m = _INT_TYPE.search(ch_type)
    if m is None:
        return None
    bits = int(m.group(2))
    return (0, 2**bits - 1) if m.group(1) else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def saturate(col: list, lo: int, hi: int) -> tuple[list, int]:
    """``col`` with every integer outside ``[lo, hi]`` set to the nearer bound, and how many were.

    The bounds on request events keep every sum in range, but a value out of range would make
    the driver raise on the whole batch, and the sink would retry it forever: one absurd row
    must cost its own precision, never the batch."""
    try:
        if min(col) >= lo and max(col) <= hi:  # the usual case, at C speed
            return col, 0
    except TypeError:  # None (a row without the field) or a mixed column: check value by value
        pass
    out, n = [], 0
    for v in col:
        if v is not None and not lo <= v <= hi:
            v, n = (lo if v < lo else hi), n + 1
        out.append(v)
    return out, n


def _converter(ch_type: str, sample: object) -> Callable[[object], object] | None:
    """How to turn producer values into what the driver expects, decided once per column and batch."""
    if ch_type.startswith("DateTime64"):
        return _to_datetime64
    if ch_type.startswith("DateTime"):
        return (lambda v: int(_to_datetime64(v).timestamp())) if isinstance(sample, str) else int
    if ch_type == "String" and isinstance(sample, dict | list):
        return _to_json
    if "Int" in ch_type and isinstance(sample, float):
        return round
    return None


def absent_value(ch_type: str, default_kind: str, default_expression: str) -> object:
    """What a row that lacks a field stores: the column's DEFAULT when it is a literal (``'trigger'``,
    ``0``), else the type's empty value, which is what ClickHouse itself would store.

    >>> absent_value("LowCardinality(String)", "DEFAULT", "'trigger'"), absent_value("Array(String)", "", "")
    ('trigger', [])
    """
    literal = default_expression.strip() if default_kind == "DEFAULT" else ""
    if len(literal) >= 2 and literal[0] == literal[-1] == "'":
        return literal[1:-1]
    if literal.lstrip("-").isdigit():
        return int(literal)
    base = ch_type.removeprefix("LowCardinality(")
    if base.startswith("Nullable("):
        return None
    if base.startswith("Array("):
        return []
    if base.startswith("Map("):
        return {}
    if "Int" in base or base.startswith(("Float", "Decimal", "Bool", "DateTime")):
        return 0
    return ""


class ClickHouseWriter:
    """Column-oriented inserts of row dicts into the tables of one database.

    Columns are read from the table once: a field the table lacks is ignored (a migration adds the
    column, and the sink picks it up on restart); a column the rows lack takes its DEFAULT.
    """

    def __init__(self, client: Client) -> None:
        self.client = client
        self._columns: dict[str, list[tuple[str, str]]] = {}
        self.clamped = 0  # integer values stored at their column type's bound (see :func:`saturate`)

    def columns(self, table: str) -> list[tuple[str, str, object]]:
        """(name, type, value for a row that lacks the field) of the columns an INSERT may name: not
        MATERIALIZED or ALIAS."""
        cols = self._columns.get(table)
        if cols is None:
            listed = self.client.query(
                "SELECT name, type, default_kind, default_expression FROM system.columns "
                "WHERE database = currentDatabase() AND table = {table:String} "
                "AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL') "
                "ORDER BY position", parameters={"table": table}).result_rows
            cols = self._columns[table] = [(name, t, absent_value(t, kind, expr)) for name, t, kind, expr in listed]
            if not cols:
                raise SinkError(f"table {table} does not exist in {self.client.database}: run `distillwatch "
                                "schema apply`")
        return cols

    def insert(self, table: str, rows: list[dict], token: str) -> None:
        # a field only some rows carry (alert v1.1's optional accounts_added) is a column of the batch
        fields = rows[0].keys() if len(rows) == 1 else set().union(*rows)
        present = [(name, ch_type, absent) for name, ch_type, absent in self.columns(table) if name in fields]
        names = [name for name, _, _ in present]
        try:  # pivot at C speed; a row lacking a field takes the column's DEFAULT for it
            columns = list(zip(*map(itemgetter(*names), rows), strict=True)) if len(names) > 1 else None
        except KeyError:
            columns = None
        if columns is None:
            columns = [[r.get(name, absent) for r in rows] for name, _, absent in present]
        data = []
        for (name, ch_type, absent), col in zip(present, columns, strict=True):
            convert = _converter(ch_type, next((v for v in col if v is not absent), absent))
            col = [convert(v) for v in col] if convert else col
            bounds = int_bounds(ch_type) if not ch_type.startswith(("DateTime", "Array", "Map")) else None
            if bounds is not None and col:
                col, clamped = saturate(list(col), *bounds)
                if clamped:
                    self.clamped += clamped
                    log.warning("%d value(s) of %s.%s out of the %s range: stored at the bound",
                                clamped, table, name, ch_type)
            data.append(col)
        types = [ch_type for _, ch_type, _ in present]
        self.client.insert(table, data, column_names=names, column_type_names=types, column_oriented=True,
                           settings={**INSERT_SETTINGS, "insert_deduplication_token": token})


# -- re-emitted rows ------------------------------------------------------------------------------


def _key_value(v: object) -> object:
    """One spelling per instant: the stream sends times as epoch seconds or ISO text, ClickHouse
    returns datetimes; all become integer epoch seconds."""
    if isinstance(v, datetime):
        return int(v.replace(tzinfo=v.tzinfo or UTC).timestamp())
    if isinstance(v, float):  # only times are float in a key; DateTime columns keep whole seconds
        return int(v)
    if isinstance(v, str) and len(v) >= 19 and v[4] == "-" and v[10] in "T ":
        try:
            return int(_to_datetime64(v).timestamp())
        except ValueError:
            return v
    return v


class RecentKeys:
    """The natural keys of the rows written lately, per table, bounded (oldest forgotten first).

    Keys are kept as 64-bit hashes: a million keys in tens of MB. Two distinct keys share a hash
    with probability ~n²/2^65 (3e-8 for a million), the price of the bound."""

    def __init__(self, limit: int = RECENT_KEYS) -> None:
        self.limit = limit
        self._seen: dict[str, set[int]] = {}
        self._order: dict[str, deque[int]] = {}
        self.dropped = 0

    def _hash(self, table: str, row: dict) -> int:
        return hash(tuple(_key_value(row.get(k)) for k in NATURAL_KEYS[table]))

    def remember(self, table: str, row: dict) -> None:
        h = self._hash(table, row)
        seen = self._seen.setdefault(table, set())
        if h not in seen:
            seen.add(h)
            order = self._order.setdefault(table, deque())
            order.append(h)
            if len(order) > self.limit:
                seen.discard(order.popleft())

    def fresh(self, table: str, row: dict) -> bool:
        """True (and the key remembered) the first time a key is offered; False for a re-emission."""
        if table not in NATURAL_KEYS:
            return True
        h = self._hash(table, row)
        if h in self._seen.get(table, ()):
            self.dropped += 1
            return False
        self.remember(table, row)
        return True

    def seed(self, client: Client) -> int:
        """Remember the keys of rows ClickHouse received in the last :data:`SEED_WINDOW_S`
        (newest last, so the bound keeps the newest): what a crashed predecessor may have written."""
        n = 0
        for table, keys in NATURAL_KEYS.items():
            cols = ", ".join(keys)
            result = client.query(
                f"SELECT {cols} FROM {table} WHERE inserted_at >= now() - {SEED_WINDOW_S} "
                f"ORDER BY inserted_at DESC LIMIT {self.limit}")
            names = result.column_names
            for values in reversed(result.result_rows):
                self.remember(table, dict(zip(names, values, strict=True)))
                n += 1
        return n


# -- the buffer ------------------------------------------------------------------------------------


@dataclass
class SinkCounters:
    rows_written: int = 0
    batches_written: int = 0
    retries: int = 0
    failed_flushes: int = 0
    unknown_rows: int = 0
    reemitted_rows: int = 0  # dropped: their natural key was written already


def batch_token(table: str, rows: list[dict]) -> str:
    """Deterministic per batch content: the same batch always dedups against itself."""
    digest = hashlib.sha1(orjson.dumps(rows), usedforsecurity=False).hexdigest()
    return f"dw:{table}:{len(rows)}:{digest}"


class BufferedSink:
    """Buffers rows per table and writes them in batches (see module docstring).

    Thread-safe: the streaming pipeline adds rows on its event loop and runs :meth:`flush` in an
    executor thread (inserts block), one flush at a time.
    """

    def __init__(
        self,
        writer: Writer,
        *,
        batch_rows: int = DEFAULT_BATCH_ROWS,
        max_retries: int = 5,
        backoff_s: float = 0.2,
        max_backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        recent: RecentKeys | None = None,
    ) -> None:
        self.writer = writer
        self.recent = recent
        self.batch_rows = batch_rows
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.sleep = sleep
        self.counters = SinkCounters()
        self._open: dict[str, list[dict]] = {}
        self._sealed: deque[tuple[str, str, list[dict]]] = deque()
        self._buffered = 0
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()

    @property
    def buffered(self) -> int:
        """Rows held (open and sealed), the measure of the memory bound."""
        return self._buffered

    def add(self, rows: Iterable[tuple[str, dict]]) -> None:
        """Buffer rows for the next :meth:`flush`; rows of a kind with no table are counted and dropped."""
        with self._lock:
            for kind, row in rows:
                table = ROW_TABLES.get(kind)
                if table is None:
                    if not self.counters.unknown_rows:
                        log.warning("ClickHouse sink: no table for rows of kind %r; skipping them", kind)
                    self.counters.unknown_rows += 1
                    continue
                if self.recent is not None and not self.recent.fresh(table, row):
                    self.counters.reemitted_rows += 1
                    continue
                self._open.setdefault(table, []).append(row)
                self._buffered += 1

    def write(self, rows: list[tuple[str, dict]]) -> None:
        """Synchronous path for replay: buffer, and insert whatever fills whole batches."""
        self.add(rows)
        with self._lock:
            full = any(len(r) >= self.batch_rows for r in self._open.values())
        if full:
            self.flush(partial=False)

    def flush(self, partial: bool = True) -> int:
        """Insert sealed and buffered batches (with ``partial``, also the last incomplete ones).

        Returns the rows written; raises :class:`SinkError` when a batch fails for good, leaving it
        and everything after it buffered for the next flush.
        """
        with self._flush_lock:
            self._seal(partial)
            written = 0
            while True:
                with self._lock:
                    if not self._sealed:
                        return written
                    table, token, rows = self._sealed[0]
                self._insert(table, token, rows)
                with self._lock:
                    self._sealed.popleft()
                    self._buffered -= len(rows)
                    self.counters.rows_written += len(rows)
                    self.counters.batches_written += 1
                written += len(rows)

    def _seal(self, partial: bool) -> None:
        with self._lock:
            for table in sorted(self._open):
                rows = self._open[table]
                cut = len(rows) if partial else len(rows) - len(rows) % self.batch_rows
                for i in range(0, cut, self.batch_rows):
                    batch = rows[i:min(i + self.batch_rows, cut)]
                    self._sealed.append((table, batch_token(table, batch), batch))
                del rows[:cut]

    def _insert(self, table: str, token: str, rows: list[dict]) -> None:
        for attempt in range(self.max_retries + 1):
            try:
                self.writer.insert(table, rows, token)
                return
            except Exception as exc:
                if attempt == self.max_retries or not is_retryable(exc):
                    self.counters.failed_flushes += 1
                    raise SinkError(f"insert of {len(rows)} rows into {table} failed: {exc}") from exc
                self.counters.retries += 1
                delay = min(self.max_backoff_s, self.backoff_s * 2**attempt)
                log.warning("ClickHouse insert into %s failed (%s); retry %d in %.1f s",
                            table, exc, attempt + 1, delay)
                self.sleep(delay)


@contextmanager
def open_sink(dsn: str, database: str, batch_rows: int = DEFAULT_BATCH_ROWS,
              dedup: bool = False) -> Iterator[BufferedSink]:
    """A sink: pending migrations applied, everything flushed on a clean exit.

    Applying migrations here lets ``replay --clickhouse chdb:///new/dir`` work on an empty
    directory; it is a no-op on an up-to-date database. ``dedup`` (the streaming sink, whose input
    can repeat) drops re-emitted rows, seeded from what ClickHouse already holds.
    """
    client = connect(dsn, database)
    apply_migrations(client, database)
    recent = None
    if dedup:
        recent = RecentKeys()
        log.info("ClickHouse sink: %d recently written keys remembered", recent.seed(client))
    sink = BufferedSink(ClickHouseWriter(client), batch_rows=batch_rows, recent=recent)
    yield sink
    sink.flush()
