"""How often CPython's cyclic garbage collector runs while events are processed.

The detector allocates no cyclic garbage per event, but every closed account-minute leaves a row
dict (and the reorder buffer a heap entry) that lives until the driver drains it: at the default
young-generation threshold (700 net container allocations) that set off a collection every ~600
events, each re-scanning thousands of live rows and finding nothing (7-8 % of replay's CPU time,
measured with ``gc.callbacks`` on a 300-account sweep seed; 0 objects collected). With the
threshold at :data:`YOUNG_THRESHOLD` the rows are drained (freed by reference counting) before
most collections would have run; what is cyclic garbage is still collected, a little later.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # net container allocations between young collections (CPython: 700)


@contextmanager
def rare_young_collections() -> Iterator[None]:
    """The young-generation threshold at :data:`YOUNG_THRESHOLD` (never lowered) inside the block,
    restored after it."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], YOUNG_THRESHOLD), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
