"""``distillwatch query NAME|SQL``: run a saved investigation query (streams/clickhouse/queries) or SQL.

Everything runs on a read-only session (:func:`distillwatch.streams.clickhouse.client.connect_readonly`): one
statement, ``readonly=1``, ``DW_QUERY_TIMEOUT_S`` and ``DW_QUERY_MAX_ROWS``. Schema changes go
through ``distillwatch schema apply`` only. When a running worker holds the embedded directory,
the query goes to that worker's query endpoint (``DW_QUERY_URL``, default port ``DW_QUERY_PORT``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import urllib.parse
from datetime import datetime

import orjson

from distillwatch.streams import settings
from distillwatch.streams.settings import mask_url


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("query", help="run a saved investigation query or an SQL statement on ClickHouse")
    p.add_argument("query", nargs="?", metavar="NAME|SQL", help="a saved query name (see --list) or SQL")
    p.add_argument("--param", action="append", default=[], metavar="K=V",
                   help="a {K:Type} parameter; repeat for several")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    p.add_argument("--list", action="store_true", help="list the saved queries and their parameters")
    p.add_argument("--clickhouse", metavar="DSN", help="chdb:///path or http(s)://… (default: config)")
    p.add_argument("--database", help="database name (default: config)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from clickhouse_connect.driver.exceptions import ClickHouseError, OperationalError

    from distillwatch.streams.clickhouse.client import connect_analyst, single_statement
    from distillwatch.streams.clickhouse.saved_queries import run_saved_query, saved_queries
    from distillwatch.streams.errors import UserError

    queries = saved_queries()
    if args.list or not args.query:
        for q in queries.values():
            print(f"{q.name}: {q.description}")
            for p in q.params:
                default = f" = {p.default}" if p.default is not None else ""
                print(f"    {p.name} {p.type}{default}  {p.doc}")
        return 0 if args.list else 2
    if args.query not in queries and args.query.replace("_", "").isalnum():  # a name, not SQL
        raise UserError(f"no saved query {args.query!r}; distillwatch query --list shows them")
    try:
        params = dict(_split_param(p) for p in args.param)
        cfg = settings.load(clickhouse_dsn=args.clickhouse, clickhouse_database=args.database)
        sql = None if args.query in queries else single_statement(args.query)
        client = connect_analyst(cfg.effective_clickhouse_dsn, cfg.clickhouse_database, cfg.query_timeout_s,
                                 cfg.query_max_rows, _with_token(cfg.effective_query_url, cfg.web_token))
        if sql is None:
            result = run_saved_query(client, args.query, params)
        else:
            result = client.query(sql, parameters=params or None)
    except (ValueError, RuntimeError) as exc:
        print(f"distillwatch query: {mask_url(str(exc))}", file=sys.stderr)
        return 2
    except OperationalError:
        raise  # cannot reach ClickHouse: the CLI names the address and the reason in one line
    except ClickHouseError as exc:
        print(f"distillwatch query: {_first_line(exc)}", file=sys.stderr)
        return 1
    write = {"table": _table, "csv": _csv, "json": _json}[args.format]
    write(list(result.column_names), result.result_rows)
    return 0


def _with_token(url: str, token: str) -> str:
    """The worker endpoint's URL carrying ``DW_WEB_TOKEN`` as the password, when one is set."""
    if not token:
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://default:{urllib.parse.quote(token, safe='')}@{rest}"


def _first_line(exc: Exception) -> str:
    """ClickHouse's own message without the stack trace and version noise it appends."""
    text = mask_url(str(exc)).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    hint = next((h for code, h in _HINTS.items() if code in text), "")
    return f"{text} -- {hint}" if hint else text


_HINTS = {  # ClickHouse error code name -> what the analyst can do about it
    "(READONLY)": "ad-hoc SQL is read-only; schema changes go through `distillwatch schema apply`",
    "(TOO_MANY_ROWS_OR_BYTES)": "add a LIMIT or an aggregation, or raise DW_QUERY_MAX_ROWS",
    "(TIMEOUT_EXCEEDED)": "narrow the time range, or raise DW_QUERY_TIMEOUT_S",
}


def _split_param(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"--param {text!r}: expected NAME=VALUE")
    return name.strip(), value


def _cell(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, list | tuple):
        return ", ".join(_cell(x) for x in v)
    return str(v)


def _table(names: list[str], rows: list[tuple]) -> None:
    if not names:  # chdb sends no header block for an empty result
        print("(0 rows)")
        return
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    numeric = [bool(rows) and all(isinstance(r[i], int | float) for r in rows) for i in range(len(names))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w)
                         for v, w, num in zip(values, widths, numeric, strict=True)).rstrip()

    print(line(names))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print(line(r))
    print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _csv(names: list[str], rows: list[tuple]) -> None:
    out = csv.writer(sys.stdout)
    out.writerow(names)
    out.writerows([[_json_value(v) if isinstance(v, list | tuple) else v for v in row] for row in rows])


def _json_value(v: object) -> str:
    return orjson.dumps(v, default=str).decode()  # orjson writes datetimes as RFC 3339 itself


def _json(names: list[str], rows: list[tuple]) -> None:
    for row in rows:
        sys.stdout.write(_json_value(dict(zip(names, row, strict=True))) + "\n")
