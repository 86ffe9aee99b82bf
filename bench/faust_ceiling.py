"""Faust's own ceiling (issue 16): a bare Faust agent on the requests topic that only takes
batches of events and parses each record with ``orjson``, nothing else, configured like the
pipeline's app (raw values, the same fetch size and batch settings). The worker's rate over this
one is the share of Faust's per-record cost that is ours.

    python -m bench.faust_ceiling TOPIC EVENTS

Prints one JSON line: ``{"events", "seconds", "events_per_s"}``, from the first event taken to the
``EVENTS``-th, then stops the worker.
"""

from __future__ import annotations

import os
import sys
import time

import faust
import orjson

from distillwatch.streams.app import MAX_RECORD_BYTES
from distillwatch.streams.settings import load


def main() -> None:
    topic_name, target = sys.argv[1], int(sys.argv[2])
    settings = load()
    app = faust.App(
        f"bench-faust-ceiling-{time.time_ns()}",  # its own group: the topic from the start
        broker=[f"kafka://{h}" for h in settings.kafka_bootstrap_servers.split(",")],
        store="memory://", autodiscover=False, key_serializer="raw", value_serializer="raw",
        consumer_max_fetch_size=MAX_RECORD_BYTES, broker_commit_interval=1.0, web_enabled=False,
        datadir=os.path.join(settings.data_dir, "faust-ceiling"),
    )
    topic = app.topic(topic_name)
    seen = {"events": 0, "t0": 0.0}

    @app.agent(topic)
    async def parse_only(stream) -> None:
        async for batch in stream.take_events(settings.batch_max, within=settings.batch_within_s):
            if not seen["t0"]:
                seen["t0"] = time.perf_counter()
            for event in batch:
                doc = orjson.loads(event.message.value)
                seen["events"] += len(doc) if isinstance(doc, list) else 1
            if seen["events"] >= target:
                seconds = time.perf_counter() - seen["t0"]
                print(orjson.dumps({"events": seen["events"], "seconds": round(seconds, 3),
                                    "events_per_s": round(seen["events"] / seconds)}).decode(), flush=True)
                os._exit(0)  # the measurement is done; a graceful Faust shutdown takes seconds

    sys.argv = ["bench-faust-ceiling", "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()
