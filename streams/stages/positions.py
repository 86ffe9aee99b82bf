"""Dropping messages a restarted upstream stage sends again.

Each message between stages carries its position ``[offset, k]`` in its source's output; a stage
keeps, per source, the position of the last message it applied (in its snapshot), so anything at
or before it is a repeat. One helper for the cluster and campaign stages."""

from __future__ import annotations

from collections.abc import Iterator

from distillwatch.models.links import Message, from_wire
from distillwatch.streams.metrics import Metrics


def unseen(messages: list[list], last: list[int], metrics: Metrics, counter: str) -> Iterator[Message]:
    """The messages of one record (``[[offset, k, wire], ...]``) after position ``last``, decoded;
    ``last`` is advanced in place, repeats are counted under ``counter``."""
    for offset, k, msg in messages:
        if [offset, k] <= last:
            metrics.inc(counter)
            continue
        last[:] = [offset, k]
        yield from_wire(msg)
