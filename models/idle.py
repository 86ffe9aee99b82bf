"""Idle partitions in the streaming pipeline: flushed like the end of input, woken when events return.

``AccountProcessor.flush`` pushes the watermark a year past the newest event, which is right at
the end of a replay and right for a streaming partition that has gone quiet (its last minutes
close and the cluster stage stops waiting for it). If events then arrive after all, the
partition must resume: :func:`wake` brings its watermark back to where the events left it and
tells every cluster partition with a rewind message ``["R", partition, watermark]``, which
:func:`rewind` applies there. Offline replay never needs either.
"""

from __future__ import annotations

import math

from models.account_processor import AccountProcessor
from models.cluster_processor import ClusterProcessor


def is_flushed(proc: AccountProcessor) -> bool:
    """Whether the partition was flushed and has not seen an event since."""
    return proc.watermark > proc.max_ts


def wake(proc: AccountProcessor) -> None:
    """Undo a flush before the next event: every window is closed, so only the watermark moves."""
    if proc.max_ts == -math.inf:
        proc.watermark = proc._sent_wm = -math.inf
    else:
        proc.watermark = proc.max_ts - proc.config.lateness_s
        proc._sent_wm = math.floor(proc.watermark / 60.0) * 60.0
    proc.links.extend((c, ["R", proc.partition, proc._sent_wm]) for c in range(proc.cluster_partitions))


def rewind(proc: ClusterProcessor, source: int, watermark: float) -> None:
    """A source partition woke up: wait for it again (minutes already closed stay closed)."""
    proc.source_wm[source] = watermark
    proc.watermark = min(proc.watermark, min(proc.source_wm))
