"""A local HTTP server that records what destinations send (no outside network), and alerts."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest

from distillwatch.models.alerts import make_alert


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self):
        return orjson.loads(self.body)


class Recorder:
    """Records every POST; ``script[path]`` lists the statuses to answer first (then 200)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: dict[str, list[int]] = {}
        self.delay_s = 0.0
        self.arrived = threading.Condition()  # notified on every request
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(recorder.delay_s)
                with recorder.arrived:
                    queued = recorder.script.get(self.path) or []
                    status = queued.pop(0) if queued else 200
                    if status < 300:
                        recorder.requests.append(Received(self.path, dict(self.headers), body))
                    recorder.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def received(self, path: str | None = None) -> list[Received]:
        with self.arrived:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, what: str, check: Callable[[], object], timeout: float = 30.0):
        """``check()`` once it is truthy, re-evaluated as requests arrive."""
        with self.arrived:
            found = self.arrived.wait_for(check, timeout)
        assert found, f"timed out waiting for {what}; received {[r.path for r in self.received()]}"
        return found


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def alert(kind: str = "account", subject: str = "acct-1", severity: str = "error", seq: int = 1,
          detected_at: float = 1770620400.0, campaign: str | None = None, action: str | None = None) -> dict:
    """A contract v1.1 alert; ``campaign`` gives a member the campaign's dedup_key."""
    a = make_alert(
        kind=kind, subject=subject, accounts=[subject] if kind == "account" else [f"acct-{i}" for i in range(12)],
        accounts_total=1 if kind == "account" else 12, severity=severity, score=21.5, threshold=10.0,
        detected_at=detected_at, window_start=detected_at - 3600,
        reasons=[{"code": "cot", "summary": "53% of prompts ask for reasoning (peers: 4%)", "value": 0.53,
                  "baseline": 0.04}],
        evidence={"requests": 900, "sample_event_ids": ["e1"]},
        links=[{"attribute": "payment", "value": "pay-42", "accounts": 12}] if kind != "account" else [], seq=seq)
    if campaign:
        a["dedup_key"] = f"distillwatch/campaign/{campaign}"
    if action:
        a["action"] = action
    return a
