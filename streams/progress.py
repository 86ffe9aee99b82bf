"""Progress of long commands (simulate, replay, publish): a tqdm bar with rate and ETA on a
terminal, and a one-line summary every ``every_s`` seconds when the output is a file or a pipe
(a log, CI), where a redrawn bar would be a stream of escape codes."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TextIO

from distillwatch.streams.recorded import open_stream


class Progress:
    """``update(n)`` adds ``n`` units done out of ``total`` (``None``: unknown, no ETA)."""

    def __init__(self, what: str, total: float | None, unit: str, stream: TextIO | None = None,
                 every_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.total, self.unit = what, total, unit
        self.stream = stream or sys.stderr
        self.every_s, self.clock = every_s, clock
        self.done = 0.0
        self.t0 = self.last = clock()
        self.bar = None
        if self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=what, file=self.stream, unit_scale=True,
                            dynamic_ncols=True, mininterval=0.5, leave=False)

    def update(self, n: float) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = self.clock()
        if now - self.last >= self.every_s:
            self.last = now
            print(self.line(now), file=self.stream, flush=True)

    def line(self, now: float) -> str:
        """``replay: 120,000/1,000,000 lines (12%), 40,000 lines/s, ETA 22 s``."""
        rate = self.done / (now - self.t0) if now > self.t0 else 0.0
        text = f"{self.what}: {_num(self.done)}"
        if self.total:
            text += f"/{_num(self.total)} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            text += f" {self.unit}"
        text += f", {_num(rate)} {self.unit}/s"
        if self.total and rate > 0:
            text += f", ETA {max(0.0, self.total - self.done) / rate:,.0f} s"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def count_lines(paths: list[str]) -> int | None:
    """Lines in the recorded streams, for an ETA (a quick pass: gzip is read at hundreds of MB/s);
    ``None`` for standard input, which can be read once only."""
    if "-" in paths:
        return None
    total = 0
    for path in paths:
        with open_stream(path) as f:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda f=f: f.read(1 << 20), b""))
    return total


def counted(items: Iterable[bytes], progress: Progress, step: int = 1024) -> Iterator[bytes]:
    """``items`` unchanged, reporting to ``progress`` every ``step`` of them."""
    n = 0
    for item in items:
        yield item
        n += 1
        if n == step:
            progress.update(n)
            n = 0
    progress.update(n)
