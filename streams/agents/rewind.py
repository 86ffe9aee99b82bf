"""Reading a partition again from a record the consumer skipped (see ``Stage._behind_gap``)."""

from __future__ import annotations

from faust.types import TP

from distillwatch.streams.app import app
from distillwatch.streams.stages.base import Stage


async def reread_gaps(stage: Stage) -> None:
    """Once a batch is delivered, seek every partition in which ``stage`` met a gap back to its
    first missing record; the records after the gap that it dropped come again behind it. A
    partition revoked meanwhile is left alone: its next owner reads from the committed offset,
    which never passes a record that was not applied."""
    assigned = app.consumer.assignment()
    for (topic, partition), offset in stage.take_rewinds().items():
        tp = TP(topic, partition)
        if tp in assigned:
            await app.consumer.seek(tp, offset)
