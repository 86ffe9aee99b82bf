"""Recorded request streams on disk: ``.jsonl``, ``.jsonl.gz`` or ``-`` for standard input."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from typing import BinaryIO


def open_stream(path: str) -> BinaryIO:
    """Open a recorded stream for binary line reading; gzip is recognised by content, not name."""
    if path == "-":
        return sys.stdin.buffer
    f = open(path, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    magic = f.peek(2)[:2] if hasattr(f, "peek") else b""
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def read_lines(paths: list[str]) -> Iterator[tuple[str, int, bytes]]:
    """``(path, line_number, raw_line)`` for every non-blank line of every file, in order."""
    for path in paths:
        f = open_stream(path)
        try:
            for n, line in enumerate(f, 1):
                line = line.rstrip(b"\r\n")
                if line.strip():
                    yield path, n, line
        finally:
            if f is not sys.stdin.buffer:
                f.close()
