"""The on-call page in a real browser: a real broker, a real ``distillwatch worker`` (with its
embedded ClickHouse sink, in its own process and data directory, so the session's chdb fixtures
are not involved), the first part of the demo stream, and headless Chromium (Debian's package,
installed by infra/chromium.sh when missing). The API must list exactly the alerts replay raises
on the same events, the page must show them as incidents (one row per paging dedup key), render a
cluster's and an account's drill-down with their chart, and its ack, resolve and suppress buttons
must round-trip with the CLI (``incidents list``, ``incidents ack``, ``suppress list``).
"""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import orjson
import pytest

from distillwatch.streams.incidents import group, select
from distillwatch.streams.replay import replay
from tests.streams import pipeline
from tests.streams.browser import Browser

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

REPO, CLI = pipeline.REPO, pipeline.CLI
DEMO_LINES = 15_000  # the demo's first 7.5 event-hours: ~80 alerts, ~40 of them about clusters


@pytest.fixture(scope="module")
def browser() -> str:
    """Chromium's path; installed from Debian's archive if missing (the test never skips)."""
    done = subprocess.run([str(REPO / "infra" / "chromium.sh")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"infra/chromium.sh failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


def _get(port: int, path: str) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as exc:  # the API answers errors as JSON too
        return orjson.loads(exc.read())
    except OSError:
        return {}


def _wait(what: str, check, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


def _chromium(browser: str, tmp: Path, url: str, screenshot: Path | None = None) -> str:
    """The DOM after the page's scripts ran (virtual time lets its fetches finish)."""
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp / 'chromium-profile'}", "--window-size=1280,900",
            "--virtual-time-budget=10000", "--dump-dom"]
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _element(dom: str, element_id: str) -> str:
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}".*?</\1>', dom, re.S)
    assert match, f"no #{element_id} in the page"
    return match.group(0)


def _alerts_listed(port: int, ids: set[str]) -> dict | None:
    """/api/alerts once it lists every id in ``ids``."""
    got = _get(port, "/api/alerts")
    return got if got and ids <= {a["alert_id"] for a in got["alerts"]} else None


def _drilldown_ready(port: int, path: str) -> dict | None:
    """A cluster drill-down once its members are in ClickHouse (the sink runs behind the alerts)."""
    got = _get(port, path)
    return got if got.get("queries", {}).get("cluster_members") else None


def test_oncall_page_shows_alerts_and_drilldowns(kafka_bootstrap, topic_prefix, tmp_path, browser):
    stream = tmp_path / "demo-head.jsonl"
    with gzip.open(REPO / "data" / "demo.jsonl.gz", "rb") as demo:
        stream.write_bytes(b"".join(line for _, line in zip(range(DEMO_LINES), demo, strict=False)))
    replayed = io.BytesIO()
    replay([str(stream)], replayed)
    expected = [orjson.loads(line) for line in replayed.getvalue().splitlines()]
    clusters = [a for a in expected if a["kind"] == "cluster"]
    accounts = [a for a in expected if a["kind"] == "account"]
    assert clusters and accounts, "the stream should raise cluster and account alerts"
    biggest = max(clusters, key=lambda a: a["accounts_total"])
    account = max(accounts, key=lambda a: (a["severity"] in ("error", "critical"), a["score"]))
    ids = {a["alert_id"] for a in expected}

    paging = select(group(expected))
    assert 3 <= len(paging) < len(expected)
    env = pipeline.env(kafka_bootstrap, topic_prefix, tmp_path / "data", DW_SINK="1",
                       DW_QUERY_PORT=str(pipeline.free_port()), DW_RUNBOOK_URL="https://runbooks.example/distillation")
    with pipeline.worker(env, tmp_path / "worker.log") as (_, port):
        subprocess.run([CLI, "publish", str(stream), "--batch", "200"], env=env, check=True,
                       capture_output=True, timeout=60)
        listed = _wait("the alert list to hold replay's alerts", lambda: _alerts_listed(port, ids), timeout=300)
        _wait("the cluster's rows in ClickHouse",
              lambda: _drilldown_ready(port, "/api/cluster/" + urllib.parse.quote(biggest["subject"], safe="")))
        page = f"http://127.0.0.1:{port}/"
        shots = tmp_path / "oncall.png", tmp_path / "oncall-cluster.png"
        main_dom = _chromium(browser, tmp_path, page, shots[0])
        cluster_url = page + "#cluster=" + urllib.parse.quote(biggest["subject"], safe="")
        cluster_dom = _chromium(browser, tmp_path, cluster_url, shots[1])
        account_dom = _chromium(browser, tmp_path, page + "#account=" + account["subject"])
        shots = (*shots, *_round_trip(browser, tmp_path, page, env, paging))
    for shot in shots:
        print(f"screenshot: {shot}")
        assert shot.stat().st_size > 10_000

    assert {a["alert_id"] for a in listed["alerts"]} == ids, "the page lists exactly replay's alerts"
    assert all(a["next_steps"] for a in listed["alerts"])
    incident_list = _element(main_dom, "incident-list")
    rows = re.findall(r'<tr data-key="([^"]+)"', incident_list)
    assert rows == [i.dedup_key for i in paging], "one row per open paging incident, latest activity first"
    assert 'id="do-ack"' in main_dom and "runbooks.example/distillation" in main_dom

    assert "drill-error" not in cluster_dom
    members = _element(cluster_dom, "members")
    assert sum(acc in members for acc in biggest["accounts"]) * 2 >= len(biggest["accounts"]), "members listed"
    assert biggest["accounts"][0] in _element(cluster_dom, "accounts")
    assert re.search(r'<svg[^>]*class="chart".*?<rect', cluster_dom, re.S), "the growth chart has bars"
    assert 'class="threshold"' in cluster_dom and "hour (UTC)" in cluster_dom, "threshold line and axis units"
    assert biggest["reasons"][0]["summary"] in cluster_dom
    assert "cluster_links" in cluster_dom and "What to check next" in cluster_dom

    assert "drill-error" not in account_dom
    assert re.search(r'<svg[^>]*class="chart".*?<rect', account_dom, re.S), "the timeline chart has bars"
    assert 'class="threshold"' in account_dom and "requests / min" in account_dom
    assert account["reasons"][0]["summary"] in account_dom
    assert "account_timeline" in account_dom


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _line(listing: str, key: str) -> str:
    return next((ln for ln in listing.splitlines() if ln.endswith(key) or f"{key}  " in ln), "")


def _round_trip(browser: str, tmp: Path, page: str, env: dict[str, str], paging: list) -> list[Path]:
    """Ack one incident and resolve another with the page's buttons, suppress an account from it,
    then read all three back with the CLI; ack a third with the CLI and see it on the page."""
    acked, resolved, from_shell = paging[0], paging[1], paging[2]
    account = acked.accounts[0]
    chrome = Browser(browser, tmp / "cdp-profile")
    try:
        chrome.goto(page + "#incident=" + urllib.parse.quote(acked.dedup_key, safe=""))
        chrome.wait("document.getElementById('do-ack') !== null")
        assert chrome.eval("document.getElementById('suspend-list').textContent.split('\\n').length") == len(
            acked.accounts), "the action section lists every account of the incident, including those that joined"
        chrome.eval("document.getElementById('who').value = 'pat'; document.getElementById('note').value = 'looking'")
        chrome.eval("document.getElementById('do-ack').click()")
        chrome.wait("document.getElementById('action-result').textContent.startsWith('ack: ')")
        chrome.eval(f"document.getElementById('suppress-attribute').value = 'account';"
                    f"document.getElementById('suppress-value').value = {orjson.dumps(account).decode()};"
                    "document.getElementById('note').value = 'partner load test'")
        chrome.eval("document.getElementById('do-suppress').click()")
        chrome.wait("document.getElementById('action-result').textContent.startsWith('suppressed: ')")
        shots = [chrome.screenshot(tmp / "oncall-acted.png")]
        chrome.eval(f"location.hash = 'incident=' + encodeURIComponent({orjson.dumps(resolved.dedup_key).decode()})")
        chrome.wait("document.getElementById('do-resolve') !== null && document.querySelector('h2 .subject')"
                    f".textContent === {orjson.dumps(resolved.subject).decode()}")
        chrome.eval("document.getElementById('note').value = 'customer confirmed'")
        chrome.eval("document.getElementById('do-resolve').click()")
        chrome.wait("document.getElementById('action-result').textContent.startsWith('resolve: ')")

        # the two actions reach ClickHouse through the sink, possibly in different batches: wait for both
        listing = _wait("the ack and the resolve in `incidents list`", lambda: (
            lambda out: out if "acked" in _line(out, acked.dedup_key) and not _line(out, resolved.dedup_key)
            else None)(_cli(env, "incidents", "list")))
        assert "pat: looking" in _line(listing, acked.dedup_key)
        assert not _line(listing, resolved.dedup_key), "a resolved incident leaves the default list"
        assert "resolved" in _line(_cli(env, "incidents", "list", "--all"), resolved.dedup_key)
        assert account in _cli(env, "suppress", "list")

        _cli({**env, "DW_ANALYST": "sam"}, "incidents", "ack", from_shell.dedup_key, "--note", "from the shell")
        key = orjson.dumps(from_shell.dedup_key).decode()
        row = f"document.querySelector('tr[data-key=\"' + CSS.escape({key}) + '\"]')"
        chrome.wait(f"loadIncidents().then(() => {row}.classList.contains('state-acked'))", timeout=90)
        shots.append(chrome.screenshot(tmp / "oncall-after-cli.png"))
    finally:
        chrome.close()
    return shots
