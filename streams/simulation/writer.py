"""Output files: the event stream (``.jsonl`` or byte-reproducible ``.jsonl.gz``) and the labels CSV."""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

LABEL_HEADER = ("account_id", "label", "scenario", "attack_start")


@contextmanager
def open_stream(path: str | Path) -> Iterator[BinaryIO]:
    """A binary writer; gzip with a fixed mtime and no file name, so equal input gives equal bytes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        if path.name.endswith(".gz"):
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz:
                yield gz
        else:
            yield raw


def write_labels(path: str | Path, rows: list[tuple[str, str, str, str]]) -> None:
    """The ground-truth CSV of request-event.md: ``account_id,label,scenario,attack_start``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(LABEL_HEADER)
        w.writerows(rows)
