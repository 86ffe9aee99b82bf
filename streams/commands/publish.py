"""``distillwatch publish FILE… [--rate N | --speed X] [--batch N] [--partitioner NAME]``: a recorded
stream into the requests topic, as fast as possible or paced (events/s, or a multiple of event time),
with a progress bar on a terminal (a line every 10 s otherwise)."""

from __future__ import annotations

import argparse
import sys

from distillwatch.streams.publisher import PARTITIONERS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="publish recorded request events to the requests topic")
    p.add_argument("files", nargs="+", metavar="FILE", help=".jsonl or .jsonl.gz, or - for stdin")
    pace = p.add_mutually_exclusive_group()
    pace.add_argument("--rate", type=float, help="events per second (default: as fast as possible)")
    pace.add_argument("--speed", type=float, help="multiple of event time, e.g. 60 = an hour a minute")
    p.add_argument("--batch", type=int, default=1,
                   help="events per record: JSON arrays grouped per partition (default 1)")
    p.add_argument("--partitioner", choices=PARTITIONERS, default="murmur2",
                   help="how records pick a partition, to play other producers: murmur2 (Kafka's default), "
                        "crc32 (librdkafka's default) or random (seeded); default murmur2")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from distillwatch.streams import kafka_client, settings
    from distillwatch.streams.kafka_admin import ensure_topics, pipeline_topics
    from distillwatch.streams.progress import Progress, count_lines, counted
    from distillwatch.streams.publisher import publish
    from distillwatch.streams.recorded import read_lines

    cfg = settings.load()
    ensure_topics(cfg, pipeline_topics(cfg))  # also the fail-fast check: Unreachable within seconds
    with Progress("publish", count_lines(args.files), "lines") as progress:
        lines = counted((raw for _, _, raw in read_lines(args.files)), progress)
        summary = publish(lines, cfg.kafka_bootstrap_servers, cfg.requests_topic, cfg.requests_partitions,
                          batch=args.batch, rate=args.rate, speed=args.speed,
                          connection=kafka_client.kafka_python_config(cfg), partitioning=args.partitioner)
    print(summary.line(), file=sys.stderr)
    return 0
