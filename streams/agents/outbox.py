"""Records one batch produces, delivered before the batch's input is acked.

Outputs (alerts, links, rows, dead letters) are delivered first, then state (changelog records),
then Faust may ack the input. So committed offsets never run ahead of state, and state never runs
ahead of outputs: after a crash, replaying from the committed offset can only repeat outputs
(deduplicated downstream), never lose them."""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

Record = tuple[str, bytes | None, bytes, int | None]


class Outbox:
    def __init__(self) -> None:
        self.outputs: list[Record] = []
        self.state: list[Record] = []

    def add(self, topic: str, key: bytes | None, value: bytes, partition: int | None = None) -> None:
        self.outputs.append((topic, key, value, partition))

    def add_state(self, topic: str, key: bytes, value: bytes, partition: int) -> None:
        self.state.append((topic, key, value, partition))

    async def deliver(self, app) -> None:
        """Outputs, then state, each in order (per-partition order is kept) and acknowledged.

        A failed delivery stops the worker: the processors in memory are then ahead of Kafka,
        and a restart rebuilds them from the changelog, which is not."""
        try:
            for records in (self.outputs, self.state):
                futures = [await app.producer.send(t, k, v, p, None, None) for t, k, v, p in records]
                if futures:
                    await asyncio.gather(*futures)
                records.clear()
        except Exception as exc:
            log.exception("delivery failed; stopping the worker so that it restarts from its changelog")
            await app.crash(exc)
            raise
