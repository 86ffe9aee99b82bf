"""The Alertmanager destination against a real Prometheus Alertmanager (Debian's package, installed
by infra/alertmanager/install.sh when missing) running the example infra/alertmanager/alertmanager.yml
on loopback, its timings shortened and its receivers replaced by webhooks this test serves: alerts
arrive grouped by incident, a campaign's members are inhibited, a silence stops notifications, and
a resolve ends the group."""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from distillwatch.models.alerts import rfc3339
from distillwatch.streams.alerting.destinations import AlertmanagerDestination
from tests.alerting.conftest import Recorder, alert
from tests.streams.pipeline import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "infra" / "alertmanager" / "alertmanager.yml"


@pytest.fixture(scope="module")
def alertmanager_binary() -> str:
    done = subprocess.run([str(REPO / "infra" / "alertmanager" / "install.sh")], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, f"infra/alertmanager/install.sh failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def _test_config(recorder: Recorder) -> str:
    """The example with second-scale timings and webhook receivers at the recorder."""
    text = EXAMPLE.read_text()
    for name, value in (("group_wait", "1s"), ("group_interval", "1s"), ("repeat_interval", "1h")):
        text = re.sub(rf"{name}: \S+", f"{name}: {value}", text)
    routes, _, _ = text.partition("\nreceivers:\n")
    receivers = "".join(f"  - name: {name}\n    webhook_configs:\n      - url: '{recorder.url('/' + name)}'\n"
                        for name in ("pager", "channel"))
    return f"{routes}\nreceivers:\n{receivers}  - name: quiet\n"


@pytest.fixture
def alertmanager(alertmanager_binary, recorder, tmp_path) -> Iterator[str]:
    config = tmp_path / "alertmanager.yml"
    config.write_text(_test_config(recorder))
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [alertmanager_binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address={url.removeprefix('http://')}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=open(tmp_path / "alertmanager.log", "wb"))
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/-/ready", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "alertmanager.log").read_text()
                assert time.monotonic() < deadline, "Alertmanager did not become ready"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _notified(recorder: Recorder, receiver: str) -> list[dict]:
    return [r.json for r in recorder.received("/" + receiver)]


def _subjects(notification: dict) -> list[str]:
    return sorted(a["labels"]["subject"] for a in notification["alerts"])


def test_grouping_inhibition_silence_and_resolve(alertmanager, recorder):
    now = time.time()
    dest = AlertmanagerDestination(alertmanager, web_url="http://dw.example:6066/")
    dest.send(alert("campaign", "op-7", detected_at=now - 60))
    dest.send(alert("account", "acct-1", detected_at=now - 50, campaign="op-7"))
    dest.send(alert("cluster", "payment:pay-42", detected_at=now - 40, campaign="op-7"))
    dest.send(alert("account", "acct-2", severity="warning", detected_at=now - 30))
    dest.send(alert("account", "acct-3", severity="info", detected_at=now - 30))

    (paged,) = recorder.wait_for("the campaign's page", lambda: _notified(recorder, "pager"))
    assert paged["status"] == "firing"
    assert paged["groupLabels"] == {"campaign": "op-7", "dedup_key": "distillwatch/campaign/op-7"}
    assert _subjects(paged) == ["op-7"]  # its member account and cluster are inhibited
    assert paged["commonAnnotations"]["drilldown_url"] == "http://dw.example:6066/#campaign=op-7"
    (channel,) = recorder.wait_for("the warning in the channel", lambda: _notified(recorder, "channel"))
    assert _subjects(channel) == ["acct-2"] and channel["groupLabels"] == {"dedup_key": "distillwatch/account/acct-2"}

    silence = {"matchers": [{"name": "subject", "value": "acct-4", "isRegex": False, "isEqual": True}],
               "startsAt": rfc3339(now - 1), "endsAt": rfc3339(now + 3600), "createdBy": "test",
               "comment": "known load test"}
    request = urllib.request.Request(alertmanager + "/api/v2/silences", data=orjson.dumps(silence), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert orjson.loads(response.read())["silenceID"]
    dest.send(alert("account", "acct-4", severity="warning", detected_at=now - 20))
    dest.send(alert("account", "acct-5", severity="warning", detected_at=now - 20))
    recorder.wait_for("the unsilenced warning", lambda: len(_notified(recorder, "channel")) >= 2)
    time.sleep(3)  # three more group intervals: the silenced alert would have notified by now
    assert sorted(s for n in _notified(recorder, "channel") for s in _subjects(n)) == ["acct-2", "acct-5"]

    dest.send(alert("campaign", "op-7", seq=2, detected_at=time.time() - 1, action="resolve"))
    resolved = recorder.wait_for("the campaign's resolve", lambda: [
        n for n in _notified(recorder, "pager") if n["status"] == "resolved"])[0]
    assert resolved["groupLabels"]["campaign"] == "op-7"
    assert {a["status"] for a in resolved["alerts"]} == {"resolved"}
    assert "distillwatch/campaign/op-7" not in dest.open
