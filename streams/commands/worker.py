"""``distillwatch worker``: run the streaming pipeline (a Faust worker) with the project's settings.

Configuration comes from the environment (``distillwatch config`` shows it). Several workers with
the same ``DW_APP_ID`` share the partitions; give each its own ``DW_WEB_PORT`` and enable the
ClickHouse sink (``DW_SINK=1``, the default) where the embedded database may live. SIGTERM stops
the worker gracefully: in-flight batches finish and are delivered, offsets are committed.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run the streaming pipeline worker (Faust)")
    p.add_argument("--loglevel", default="info", help="log level (default: info)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from faust.worker import Worker

    from streams.app import app, settings
    from streams.kafka_admin import ensure_topics, pipeline_topics
    from streams.logthrottle import throttle_worker_logs

    ensure_topics(settings.kafka_bootstrap_servers, pipeline_topics(settings))
    import streams.agents  # noqa: F401  (registers the agents)

    throttle_worker_logs(app)
    Worker(app, loglevel=args.loglevel).execute_from_commandline()
    return 0
