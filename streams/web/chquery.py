"""A read-only ClickHouse HTTP endpoint served by the worker that holds the embedded database.

With the embedded engine (chdb) only one process may open the directory, and while the pipeline
runs that is the worker whose sink writes it. So that worker answers queries for everyone else,
speaking the subset of ClickHouse's own HTTP interface that clients use, on ``DW_QUERY_PORT``:

- ``GET|POST /?query=…`` (or the query as the POST body, or both: the parameter then the body),
  ``database=``, ``default_format=`` (a ``FORMAT`` clause in the query wins; TabSeparated when
  neither), ``param_NAME=`` for ``{NAME:Type}`` placeholders; ``GET /ping`` answers ``Ok.``;
- the body is the requested format's bytes as the engine itself writes them (Native, JSON,
  JSONEachRow, CSV, …), with ``X-ClickHouse-Format`` and ``X-ClickHouse-Timezone`` headers; an
  error is ClickHouse's own text (``Code: N. DB::Exception: …``) with status 500 and
  ``X-ClickHouse-Exception-Code``, as a server sends it, so clients report it the usual way.

Every query runs on the read-only session (:func:`distillwatch.streams.clickhouse.client.connect_readonly`:
``readonly=1``, ``DW_QUERY_TIMEOUT_S``, ``DW_QUERY_MAX_ROWS``) after the one-statement check, so
clickhouse-connect, ``distillwatch query`` and Grafana's ClickHouse data source work against a
running worker unchanged and none of them can write. Settings a client sends in the URL are
refused the way a read-only server refuses them (code 164), except ones equal to the session's
(clickhouse-connect reads ``system.settings`` first and sends none to a read-only server).
Transport parameters (session, compression, progress headers, credentials) are accepted and
ignored: there is one user and no compression.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aiohttp import BasicAuth, web
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from distillwatch.streams.clickhouse.client import single_statement
from distillwatch.streams.settings import mask_url

TRANSPORT_PARAMS = frozenset({
    "query", "database", "default_format", "session_id", "session_timeout", "session_check", "compress",
    "decompress", "enable_http_compression", "http_zlib_compression_level", "wait_end_of_query",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms", "query_id", "user", "password",
    "quota_key", "buffer_size", "client_protocol_version", "add_http_cors_header", "role",
})
CONTENT_TYPES = {
    "TabSeparated": "text/tab-separated-values", "TSV": "text/tab-separated-values",
    "TabSeparatedWithNames": "text/tab-separated-values", "TSVWithNames": "text/tab-separated-values",
    "CSV": "text/csv", "CSVWithNames": "text/csv", "JSON": "application/json", "JSONCompact": "application/json",
    "JSONEachRow": "application/x-ndjson", "JSONCompactEachRow": "application/x-ndjson",
}
_FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*$", re.IGNORECASE)
_ERROR_CODE = re.compile(r"Code: (\d+)")

Connector = Callable[[str], Client]  # database -> its read-only client


class QueryRefused(Exception):
    """A request the endpoint does not run; the text reads like ClickHouse's own error."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Code: {code}. DB::Exception: {message}")
        self.code = code


def split_format(sql: str, default_format: str) -> tuple[str, str]:
    """The statement without its trailing ``FORMAT X`` clause, and the format to answer in.

    >>> split_format("SELECT 1 FORMAT JSONEachRow", "TabSeparated")
    ('SELECT 1', 'JSONEachRow')
    """
    match = _FORMAT_CLAUSE.search(sql)
    return (sql[:match.start()].rstrip(), match.group(1)) if match else (sql, default_format)


def parse_request(params: dict[str, str], body: str, session: dict[str, str]) -> tuple[str, str, str, dict]:
    """(statement, database, format, query parameters) of one HTTP request; ``QueryRefused`` for
    several statements or a setting the read-only session may not change."""
    sql = "\n".join(part for part in (params.get("query", ""), body) if part.strip())
    if not sql.strip():
        raise QueryRefused(62, "Empty query. (SYNTAX_ERROR)")
    try:
        sql = single_statement(sql).strip()
    except ValueError as exc:
        raise QueryRefused(62, f"{exc}. (SYNTAX_ERROR)") from None
    sql, fmt = split_format(sql, params.get("default_format") or "TabSeparated")
    bind = {k[len("param_"):]: v for k, v in params.items() if k.startswith("param_")}
    for name, value in params.items():
        if name in TRANSPORT_PARAMS or name.startswith("param_") or session.get(name) == value:
            continue
        raise QueryRefused(164, f"Cannot modify '{name}' setting in readonly mode. (READONLY)")
    return sql, params.get("database", ""), fmt, bind


def execute(connector: Connector, default_database: str, sql: str, database: str, fmt: str,
            bind: dict) -> bytes:
    """Run one read-only statement and return the engine's bytes in ``fmt`` (blocking)."""
    client = connector(database or default_database)
    return client.raw_query(sql, parameters=bind or None, fmt=fmt)


def session_settings(client: Client) -> dict[str, str]:
    """The read-only session's settings as ClickHouse prints them (to accept clients that resend them)."""
    rows = client.query("SELECT name, value FROM system.settings WHERE changed").result_rows
    return {name: str(value) for name, value in rows}


def credentials_ok(request: web.Request, token: str) -> bool:
    """Whether the request carries ``token`` the ways ClickHouse clients send a password: basic
    auth (clickhouse-connect, Grafana), ``X-ClickHouse-Key``, ``?password=``, or a bearer token."""
    if not token:
        return True
    given = [request.headers.get("X-ClickHouse-Key", ""), request.query.get("password", "")]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        given.append(auth[len("Bearer "):])
    elif auth.startswith("Basic "):
        try:
            given.append(BasicAuth.decode(auth).password)
        except ValueError:
            pass
    return any(hmac.compare_digest(g.encode(), token.encode()) for g in given if g)


def build_app(connector: Connector, default_database: str, available: Callable[[], str | None],
              pool: ThreadPoolExecutor, token: str = "") -> web.Application:
    """The endpoint as an aiohttp application. ``available()`` says why this process cannot serve
    queries now (``None`` when it can); queries run in ``pool``, never on the event loop; with a
    ``token`` every query must carry it (:func:`credentials_ok`)."""
    session: dict[str, str] = {}

    async def ping(request: web.Request) -> web.Response:
        return web.Response(text="Ok.\n")

    async def query(request: web.Request) -> web.Response:
        if not credentials_ok(request, token):
            return _error(401, 516, "the query endpoint needs DW_WEB_TOKEN as the password. (AUTHENTICATION_FAILED)")
        why = available()
        if why:
            return _error(503, 210, why + " (NETWORK_ERROR)")
        body = (await request.read()).decode("utf-8", "replace") if request.method == "POST" else ""
        loop = asyncio.get_running_loop()
        try:
            if not session:
                session.update(await loop.run_in_executor(pool, session_settings, connector(default_database)))
            sql, database, fmt, bind = parse_request(dict(request.query), body, session)
            data = await loop.run_in_executor(pool, execute, connector, default_database, sql, database, fmt, bind)
        except QueryRefused as exc:
            return _error(400 if exc.code == 62 else 500, exc.code, str(exc).split("DB::Exception: ", 1)[1])
        except (ClickHouseError, RuntimeError) as exc:
            text = mask_url(str(exc).strip())
            found = _ERROR_CODE.search(text)
            return _error(500, int(found.group(1)) if found else 1000, text[text.find("Code:"):] if found else text)
        return web.Response(body=data, headers={
            "Content-Type": CONTENT_TYPES.get(fmt, "application/octet-stream") + "; charset=UTF-8",
            "X-ClickHouse-Format": fmt, "X-ClickHouse-Timezone": "UTC", "X-Content-Type-Options": "nosniff"})

    app = web.Application()
    app.router.add_get("/ping", ping)
    app.router.add_route("GET", "/", query)
    app.router.add_route("POST", "/", query)
    return app


def _error(status: int, code: int, message: str) -> web.Response:
    text = message if message.startswith("Code:") else f"Code: {code}. DB::Exception: {message}"
    return web.Response(status=status, text=text + "\n", headers={
        "X-ClickHouse-Exception-Code": str(code), "X-Content-Type-Options": "nosniff"})
