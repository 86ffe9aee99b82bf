"""The on-call page and its JSON API, registered on the worker's web server.

| path | what |
|---|---|
| ``/`` | the page (alerts list, alert detail, drill-down; ``#account=ID`` / ``#cluster=ID`` select one) |
| ``/static/{name}`` | its script and style sheet |
| ``/api/alerts`` | recent alerts from the alerts topic, newest first, with next steps (``?limit=N``) |
| ``/api/incidents`` | those alerts grouped by incident with people's actions folded in (``?all=1``: also
  below paging and resolved; ``?search=TEXT``: an account, org, payment, IP range, router) |
| ``POST /api/incident`` | ``{dedup_key, action: ack|resolve, note}``: what ``distillwatch incidents ack`` does |
| ``POST /api/suppress`` | ``{attribute, value, for|until, reason}``: what ``distillwatch suppress add`` does |
| ``/api/account/{id}``, ``/api/cluster/{id}`` | the subject's latest alert, clusters or members, and the
  saved queries' rows around ``?at=`` (default: the latest alert's time) |

Kafka and ClickHouse calls block, so they run in the default executor, never on the event loop
that drives the pipeline's agents. The POST endpoints take JSON only: a browser cannot send that
cross-site without a CORS preflight this server never grants, so another site cannot act for you.

The server binds ``DW_WEB_BIND`` (127.0.0.1 by default). Bound anywhere else it refuses to start
without ``DW_WEB_TOKEN``, and every ``/api`` call then needs ``Authorization: Bearer TOKEN`` (the
page and its static files carry no data and stay open; the page sends the token it was opened with,
``/#token=…``). Behind a reverse proxy that authenticates, keep the loopback bind.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import ipaddress
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from importlib.resources import files

import orjson
from aiohttp import web as aiohttp_web
from clickhouse_connect.driver.exceptions import ClickHouseError
from faust.web import Request, Response, View
from kafka.errors import KafkaError

from distillwatch.models.alerts import rfc3339
from distillwatch.streams import actions, incidents
from distillwatch.streams.app import app, settings
from distillwatch.streams.clickhouse.client import connect_readonly
from distillwatch.streams.commands.incidents import ACTIONS_SQL
from distillwatch.streams.settings import mask_url
from distillwatch.streams.web import alerts as topic
from distillwatch.streams.web import chquery, drilldown

STATIC = files(__package__) / "static"  # package data: found in a wheel as in a checkout
STATIC_TYPES = {"app.js": "text/javascript", "style.css": "text/css"}
# the page loads nothing from elsewhere: no CDN, no fonts, no beacons
HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:", "Cache-Control": "no-store",
           "X-Content-Type-Options": "nosniff"}
ALERTS_TTL_S = 2.0  # the page and its drill-down ask at once; one topic read serves both
PER_PARTITION = 5000  # alerts read per partition: whole incident histories, not just their last alert



def exposure_problem(bind: str, token: str) -> str | None:
    """Why the page must not start with this bind address and token, or ``None``: anything but
    loopback serves alert data (account ids, reasons) to the network, so it needs a token."""
    try:
        loopback = bind == "localhost" or ipaddress.ip_address(bind).is_loopback
    except ValueError:
        loopback = False
    if loopback or token:
        return None
    return (f"DW_WEB_BIND={bind} exposes the on-call page beyond this host: set DW_WEB_TOKEN (callers send "
            "'Authorization: Bearer TOKEN'), or keep DW_WEB_BIND=127.0.0.1 behind an authenticating reverse "
            "proxy (docs/oncall.md)")


_problem = exposure_problem(settings.web_bind, settings.web_token)
if _problem:
    raise SystemExit(_problem)

log = logging.getLogger(__name__)
_cache: tuple[float, list[dict]] = (0.0, [])
_cache_lock = asyncio.Lock()


async def recent_alerts() -> list[dict]:
    """Recent alerts (newest first), read from the topic at most every ``ALERTS_TTL_S``."""
    global _cache
    async with _cache_lock:
        if time.monotonic() - _cache[0] > ALERTS_TTL_S:
            found = await asyncio.get_running_loop().run_in_executor(
                None, topic.read_recent, settings.kafka_bootstrap_servers, settings.alerts_topic, PER_PARTITION)
            _cache = (time.monotonic(), found)
        return _cache[1]


def _json(web: View, value: object, status: int = 200) -> Response:
    body = orjson.dumps(value, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)
    return web.bytes(body, content_type="application/json", status=status, headers=HEADERS)


def authorized(authorization: str, token: str) -> bool:
    """Whether an ``Authorization`` header carries the bearer ``token`` (no token: always)."""
    return not token or hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode())


Handler = Callable[..., Awaitable[Response]]


def api(handler: Handler) -> Handler:
    """An ``/api`` route: refused with 401 unless the request carries the configured token."""
    @functools.wraps(handler)
    async def guarded(web: View, request: Request, *args: object, **kwargs: object) -> Response:
        if not authorized(request.headers.get("Authorization", ""), settings.web_token):
            return _json(web, {"error": "this page needs its token: open it as /#token=TOKEN, or send "
                                        "'Authorization: Bearer TOKEN'"}, status=401)
        return await handler(web, request, *args, **kwargs)
    return guarded


def _kafka_error(exc: KafkaError) -> str:
    return f"cannot read the alerts topic {settings.alerts_topic} at {settings.kafka_bootstrap_servers}: {exc!r}"


def _holds_sink() -> bool:
    """Whether this worker writes ClickHouse now (sink on, aggregates partition assigned)."""
    return bool(settings.sink_enabled) and any(
        tp.topic == settings.rows_topic for tp in app.consumer.assignment())


@app.page("/")
async def oncall_page(web: View, request: Request) -> Response:
    return web.bytes((STATIC / "index.html").read_bytes(), content_type="text/html", headers=HEADERS)


@app.page("/static/{name}")
async def static_file(web: View, request: Request, name: str) -> Response:
    if name not in STATIC_TYPES:  # a fixed list: no path from the URL reaches the file system
        return _json(web, {"error": f"no static file {name!r}"}, status=404)
    return web.bytes((STATIC / name).read_bytes(), content_type=STATIC_TYPES[name], headers=HEADERS)


@app.page("/api/alerts")
@api
async def api_alerts(web: View, request: Request) -> Response:
    limit = request.query.get("limit", "200")
    try:
        found = await recent_alerts()
    except KafkaError as exc:
        return _json(web, {"error": _kafka_error(exc)}, status=503)
    return _json(web, {"topic": settings.alerts_topic, "total": len(found),
                       "alerts": [topic.with_hints(a) for a in found[:int(limit) if limit.isdigit() else 200]]})


@app.page("/api/incidents")
@api
async def api_incidents(web: View, request: Request) -> Response:
    try:
        found = incidents.group(await recent_alerts())
    except KafkaError as exc:
        return _json(web, {"error": _kafka_error(exc)}, status=503)
    out: dict[str, object] = {"topic": settings.alerts_topic, "runbook_url": settings.runbook_url}
    try:
        incidents.fold_actions(found, await asyncio.get_running_loop().run_in_executor(None, _actions, _holds_sink()))
    except (drilldown.Unavailable, ClickHouseError) as exc:  # the incidents still help: say what is missing
        out["actions_error"] = mask_url(f"acks and resolves not shown: {str(exc).splitlines()[0]}")
    everything = request.query.get("all") == "1"
    shown = incidents.select(found, pages_only=not everything, search=request.query.get("search", ""),
                             include_closed=everything)
    out |= {"total": len(found), "incidents": [{**i.summary(), "alert": topic.with_hints(i.latest)} for i in shown]}
    return _json(web, out)


def _actions(holds_sink: bool) -> list[dict]:
    return list(drilldown.client_for(settings, holds_sink).query(ACTIONS_SQL).named_results())


async def _body(request: Request, fields: tuple[str, ...]) -> dict[str, str]:
    """The JSON object a POST carries, its ``fields`` as strings; ``ValueError`` says what is wrong."""
    if request.content_type != "application/json":
        raise ValueError("send the body as JSON (Content-Type: application/json)")
    try:
        body = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    return {f: str(body.get(f) or "") for f in fields}


async def _act(web: View, request: Request, fields: tuple[str, ...],
               act: Callable[[dict[str, str]], str]) -> Response:
    """Read the body, run ``act`` (Kafka, blocking) in the executor, answer ``{done}`` or ``{error}``."""
    try:
        body = await _body(request, fields)
        done = await asyncio.get_running_loop().run_in_executor(None, act, body)
    except ValueError as exc:
        return _json(web, {"error": str(exc)}, status=400)
    except KafkaError as exc:
        return _json(web, {"error": f"cannot reach Kafka at {settings.kafka_bootstrap_servers}: {exc!r}"}, status=503)
    return _json(web, {"done": done})


def _incident_action(body: dict[str, str]) -> str:
    if body["action"] not in actions.ACTIONS or not body["dedup_key"]:
        raise ValueError(f"send a dedup_key and an action: {' or '.join(actions.ACTIONS)}")
    actions.record_action(settings, body["dedup_key"], body["action"], _who(body), body["note"])
    return f"{body['action']}: {body['dedup_key']} by {_who(body)}"


def _who(body: dict[str, str]) -> str:
    """The name the page sent (the person at the browser), else the worker's ``DW_ANALYST``/login."""
    return body["who"] or actions.who()


def _suppress(body: dict[str, str]) -> str:
    if not body["reason"]:
        raise ValueError("say why (reason): it is kept in the audit trail")
    sup = actions.suppression(body["attribute"], body["value"], body["reason"], body["for"] or "7d", body["until"])
    actions.add_suppression(settings, sup, _who(body))
    return f"suppressed: {sup.attribute} {sup.value} does not page until {rfc3339(sup.until)} (event time)"


@app.page("/api/incident")
class IncidentAction(View):
    """POST only: acknowledge or resolve an incident, as ``distillwatch incidents ack|resolve``."""

    @api
    async def post(self, request: Request) -> Response:
        return await _act(self, request, ("dedup_key", "action", "note", "who"), _incident_action)


@app.page("/api/suppress")
class SuppressAction(View):
    """POST only: suppress a subject, as ``distillwatch suppress add``."""

    @api
    async def post(self, request: Request) -> Response:
        return await _act(self, request, ("attribute", "value", "for", "until", "reason", "who"), _suppress)


@app.page("/api/account/{account_id}")
@api
async def api_account(web: View, request: Request, account_id: str) -> Response:
    return await _drilldown(web, request, "account", account_id)


@app.page("/api/cluster/{cluster_id:.+}")  # cluster ids hold ':' and '/' (ip24:1.2.3.0/24)
@api
async def api_cluster(web: View, request: Request, cluster_id: str) -> Response:
    return await _drilldown(web, request, "cluster", cluster_id)


async def _drilldown(web: View, request: Request, kind: str, subject: str) -> Response:
    """The subject's latest alert (with next steps), its relations among recent alerts, and the
    saved queries' rows; errors come back as JSON that says where the data can be read."""
    try:
        recent = await recent_alerts()
    except KafkaError as exc:
        return _json(web, {"kind": kind, "subject": subject, "error": _kafka_error(exc)}, status=503)
    alert = topic.latest_for(recent, kind, subject)
    out: dict[str, object] = {"kind": kind, "subject": subject, "alert": alert and topic.with_hints(alert)}
    if kind == "account":
        out["clusters"] = topic.clusters_of(recent, subject)
    try:
        at = drilldown.parse_time(request.query.get("at") or (alert or {}).get("detected_at", ""))
    except ValueError:
        out["error"] = (f"no recent alert about {kind} {subject} on {settings.alerts_topic}; "
                        "pass ?at=YYYY-MM-DDTHH:MM:SSZ")
        return _json(web, out, status=404)
    start = drilldown.parse_time(alert["window_start"], "window_start") if alert else at
    try:
        out["queries"] = await asyncio.get_running_loop().run_in_executor(
            None, _queries, _holds_sink(), kind, subject, at, start)
    except drilldown.Unavailable as exc:
        out["error"] = str(exc)
        return _json(web, out, status=503)
    except ClickHouseError as exc:
        out["error"] = mask_url(f"ClickHouse query failed ({settings.effective_clickhouse_dsn}): {exc}")
        return _json(web, out, status=502)
    out["at"] = at
    return _json(web, out)


@app.task
async def query_endpoint() -> None:
    """Serve the read-only ClickHouse HTTP endpoint (:mod:`distillwatch.streams.web.chquery`) on
    ``DW_QUERY_PORT`` for the life of the worker; it answers while this worker holds the database."""
    embedded = settings.effective_clickhouse_dsn.startswith("chdb:")
    if not settings.query_port or (embedded and not settings.sink_enabled):
        return  # off, or a worker that never holds the embedded directory
    handler = chquery.build_app(
        lambda database: connect_readonly(settings.effective_clickhouse_dsn, database,
                                          settings.query_timeout_s, settings.query_max_rows),
        settings.clickhouse_database, _query_unavailable, _QUERY_POOL, settings.web_token)
    runner = aiohttp_web.AppRunner(handler, access_log=None)
    await runner.setup()
    try:
        await aiohttp_web.TCPSite(runner, settings.web_bind, settings.query_port).start()
    except OSError as exc:  # the pipeline matters more than the endpoint: say so and run on
        log.warning("query endpoint not served on %s:%s (%s): set DW_QUERY_PORT to a free port",
                    settings.web_bind, settings.query_port, exc)


_QUERY_POOL = ThreadPoolExecutor(2, thread_name_prefix="dw-query")  # two analysts at once; the sink has its own


def _query_unavailable() -> str | None:
    """Why this worker cannot answer queries now: an embedded directory it does not hold."""
    if settings.effective_clickhouse_dsn.startswith("chdb:") and not _holds_sink():
        return (f"this worker does not hold the embedded ClickHouse; the one running with DW_SINK=1 that holds "
                f"the {settings.rows_topic} partition answers on its DW_QUERY_PORT")
    return None


def _queries(holds_sink: bool, kind: str, subject: str, at: datetime, start: datetime) -> dict[str, list[dict]]:
    client = drilldown.client_for(settings, holds_sink)
    if kind == "account":
        return drilldown.account(client, subject, at)
    return drilldown.cluster(client, subject, at, start)
