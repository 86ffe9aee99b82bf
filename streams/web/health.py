"""The worker's operational endpoints, on the same web server as the on-call page
(``DW_WEB_BIND``:``DW_WEB_PORT``):

- ``/metrics``: Prometheus text from :mod:`distillwatch.streams.metrics` (HELP/TYPE, ``_total`` counters,
  histograms, ``process_*``).
- ``/healthz``: 200 while the process serves requests, i.e. its event loop runs (liveness).
- ``/readyz``: 200 once the worker has joined its group and restored its tables; 503 with the
  reason while it rebalances or recovers (readiness: route no traffic, page no one yet).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST

from distillwatch.streams.app import app, metrics


@app.page("/metrics")
async def prometheus(web, request):
    return web.bytes(metrics.prometheus(), headers={"Content-Type": CONTENT_TYPE_LATEST})


@app.page("/healthz")
async def healthz(web, request):
    return web.text("ok\n")


def not_ready() -> str | None:
    """Why the worker cannot serve its partitions yet, or ``None`` when it can."""
    if app.rebalancing:
        return "rebalancing"
    if not app.tables.recovery.completed.is_set():
        return "restoring tables from their changelogs"
    return None


@app.page("/readyz")
async def readyz(web, request):
    reason = not_ready()
    if reason is not None:
        return web.text(f"not ready: {reason}\n", status=503)
    return web.text("ready\n")
