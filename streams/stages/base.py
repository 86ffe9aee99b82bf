"""What every stage driver holds, so the three drivers are built alike."""

from __future__ import annotations

from collections.abc import MutableMapping

from distillwatch.models.suppressions import SuppressionTable
from distillwatch.streams.metrics import Metrics
from distillwatch.streams.settings import Settings


class Stage:
    """The settings, the table's mapping and its changelog topic (state), the metrics, and the
    suppressions every worker reads (:data:`distillwatch.streams.state.live_suppressions`; none
    in a test), applied where the stage's alerts leave it."""

    def __init__(self, s: Settings, data: MutableMapping[bytes, bytes], changelog: str, metrics: Metrics,
                 suppressions: SuppressionTable | None = None) -> None:
        self.settings = s
        self.data = data
        self.changelog = changelog
        self.metrics = metrics
        self.suppressions = {} if suppressions is None else suppressions
