"""``distillwatch worker``: run the streaming pipeline (a Faust worker) with the project's settings.

Configuration comes from the environment (``distillwatch config`` shows it). Several workers with
the same ``DW_APP_ID`` share the partitions; give each its own ``DW_WEB_PORT`` and enable the
ClickHouse sink (``DW_SINK=1``, the default) where the embedded database may live. SIGTERM stops
the worker gracefully: in-flight batches finish and are delivered, offsets are committed.

Kafka is checked before Faust starts: unreachable, the worker says so within
``DW_KAFKA_CONNECT_TIMEOUT_S`` and exits 1, or, with ``DW_KAFKA_WAIT_S`` > 0 (``inf``: for ever),
keeps trying and says so at once, then once a minute. Logs are one line per event
(``DW_LOG_FORMAT=text|json``), without Faust's banner and spinner unless on a terminal.
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="run the streaming pipeline worker (Faust)")
    p.add_argument("--loglevel", default="info", help="log level (default: info)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from distillwatch.streams import kafka_client, settings
    from distillwatch.streams.kafka_admin import ensure_topics, pipeline_topics
    from distillwatch.streams.logthrottle import throttle_worker_logs

    cfg = settings.load()
    kafka_client.wait_until_reachable(cfg, say=lambda m: print(f"distillwatch worker: {m}", file=sys.stderr,
                                                                 flush=True))
    ensure_topics(cfg, pipeline_topics(cfg))

    from faust.worker import Worker

    import distillwatch.streams.agents  # noqa: F401  (registers the agents)
    from distillwatch.streams import logs
    from distillwatch.streams.app import app
    from distillwatch.streams.gc_policy import rare_young_collections
    from distillwatch.streams.state import changelog_topics

    for name, partitions, configs in changelog_topics():
        ensure_topics(cfg, [(name, partitions)], configs)

    decorated = logs.interactive(cfg.log_format)
    worker = Worker(app, loglevel=args.loglevel, quiet=not decorated,
                    logging_config=logs.logging_config(cfg.log_format, args.loglevel))
    if not decorated:
        worker.spinner = None  # its escape codes would land in log files
    throttle_worker_logs(app)
    with rare_young_collections():  # as in replay: the young collections re-scanned live rows, found nothing
        worker.execute_from_commandline()
    return 0
