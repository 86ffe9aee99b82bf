"""Saved investigation queries: ``queries/NAME.sql`` in this package, run with server-side parameters.

Each file is plain ClickHouse SQL with ``{name:Type}`` placeholders and a comment header that
describes it and declares each parameter (``-- @param name Type [= default] description``);
``distillwatch query NAME`` and the on-call page's drill-down run exactly these files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.query import QueryResult

QUERIES: Traversable = files(__package__) / "queries"


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str
    default: str | None
    doc: str


@dataclass(frozen=True)
class SavedQuery:
    """A saved investigation query (``queries/NAME.sql``), its header parsed.

    The header declares each ``{name:Type}`` placeholder on a line
    ``-- @param name Type [= default] description``; the first comment lines describe the query.
    """

    name: str
    description: str
    params: tuple[QueryParam, ...]
    sql: str

    def bind(self, given: Mapping[str, object]) -> dict[str, object]:
        """The parameters to send: ``given`` plus declared defaults; unknown or missing names fail."""
        declared = {p.name: p for p in self.params}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise ValueError(f"query {self.name} has no parameter {', '.join(unknown)}")
        values = {p.name: p.default for p in self.params if p.default is not None}
        values.update(given)
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise ValueError(f"query {self.name} needs " + ", ".join(
                f"{name} ({declared[name].type})" for name in missing))
        return values


_PARAM_LINE = re.compile(r"^--\s*@param\s+(\w+)\s+(\S+)(?:\s*=\s*(\S+))?\s*(.*)$")
_PLACEHOLDER = re.compile(r"\{(\w+):")
_QUERY_NAME = re.compile(r"^[a-z0-9_]+$")


def parse_saved_query(name: str, text: str) -> SavedQuery:
    """Read a saved query's header; every placeholder in the SQL must be declared there."""
    description, params = [], []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        match = _PARAM_LINE.match(line)
        if match:
            pname, ptype, default, doc = match.groups()
            params.append(QueryParam(pname, ptype, default, doc.strip()))
        elif not params:
            description.append(line.lstrip("-").strip())
    undeclared = set(_PLACEHOLDER.findall(text)) - {p.name for p in params}
    if undeclared:
        raise ValueError(f"query {name}: placeholders without @param: {', '.join(sorted(undeclared))}")
    return SavedQuery(name, " ".join(d for d in description if d), tuple(params), text)


def saved_queries(directory: Traversable = QUERIES) -> dict[str, SavedQuery]:
    """Every saved query by name (the file name without ``.sql``)."""
    found = sorted((p for p in directory.iterdir() if p.name.endswith(".sql")), key=lambda p: p.name)
    return {p.name[:-4]: parse_saved_query(p.name[:-4], p.read_text(encoding="utf-8")) for p in found}


def run_saved_query(client: Client, name: str, params: Mapping[str, object] | None = None,
                    directory: Traversable = QUERIES) -> QueryResult:
    """Run saved query ``name`` with server-side ``{name:Type}`` parameters (never string-formatted)."""
    path = directory / f"{name}.sql"
    if not _QUERY_NAME.match(name) or not path.is_file():
        raise KeyError(f"no saved query {name!r} in {directory}")
    query = parse_saved_query(name, path.read_text(encoding="utf-8"))
    return client.query(query.sql, parameters=query.bind(params or {}))
