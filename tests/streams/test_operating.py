"""Operating a worker (issue 15): the Prometheus exposition, the shipped dashboard and alert
rules, one-line logs, and Kafka security settings turned into client settings."""

import io
import logging
import logging.config
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import orjson
import yaml
from prometheus_client.parser import text_string_to_metric_families

from distillwatch.streams import kafka_client, logs, settings
from distillwatch.streams.metrics import GAUGES, Metrics

INFRA = Path(__file__).resolve().parents[2] / "infra"
METRIC = re.compile(r"\b((?:distillwatch|process)_[a-z_]+)")


def referenced_metrics() -> set[str]:
    """Every metric name in the Grafana dashboard's queries and the Prometheus rules."""
    dashboard = orjson.loads((INFRA / "grafana" / "dashboard.json").read_bytes())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    rules = yaml.safe_load((INFRA / "prometheus" / "alerts.yml").read_text())
    exprs += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return {name for expr in exprs for name in METRIC.findall(expr)}


def exposed(text: str) -> set[str]:
    """Sample names (``_total``, ``_bucket`` included) of a Prometheus text exposition."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_every_metric_the_dashboard_and_rules_use_is_registered():
    m = Metrics({"account": 4, "cluster": 4})
    for name in GAUGES:  # the agents register these callables at start-up
        m.gauges[name] = lambda: 0.0
    names = referenced_metrics()
    assert {"distillwatch_sink_failures_total", "distillwatch_bad_records_total", "distillwatch_consumer_lag",
            "distillwatch_alert_latency_seconds_bucket", "process_cpu_seconds_total"} <= names
    assert names - exposed(m.prometheus().decode()) == set()


def test_exposition_has_help_type_total_and_every_counter_from_the_start():
    text = Metrics().prometheus().decode()
    assert "# HELP distillwatch_sink_failures_total ClickHouse sink failures" in text
    assert "# TYPE distillwatch_sink_failures_total counter" in text
    assert "\ndistillwatch_sink_failures_total 0.0\n" in text
    for severity in ("info", "warning", "error", "critical"):
        assert f'distillwatch_alerts_total{{severity="{severity}"}} 0.0' in text
    assert "# TYPE distillwatch_alert_latency_seconds histogram" in text
    assert 'distillwatch_batch_seconds_count{stage="cluster"} 0.0' in text
    assert "process_resident_memory_bytes " in text


def test_counting_keeps_the_names_the_stages_use():
    m = Metrics()
    m.inc("events_in", 5)
    m.inc("alerts.error")
    m.inc("record_errors", 2)  # a name not declared here is registered on first use
    text = m.prometheus().decode()
    assert "distillwatch_events_in_total 5.0" in text and 'distillwatch_alerts_total{severity="error"} 1.0' in text
    assert "distillwatch_record_errors_total 2.0" in text
    assert (m.counters["events_in"], m.counters["alerts.error"]) == (5, 1)


def test_a_batch_observes_lag_per_partition_batch_time_and_one_latency_per_alert():
    m = Metrics()
    now = time.time()
    batch = [SimpleNamespace(message=SimpleNamespace(timestamp=now - age, partition=p))
             for p, age in ((0, 30.0), (0, 10.0), (3, 2.0))]
    with m.batch("account", batch):
        m.inc("alerts.critical", 2)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(m.prometheus().decode()) for s in f.samples}
    lag = "distillwatch_event_lag_seconds"
    assert samples[(f"{lag}_count", (("partition", "0"), ("stage", "account")))] == 1
    assert 30 <= samples[(f"{lag}_sum", (("partition", "0"), ("stage", "account")))] < 31  # the oldest record
    assert samples[(f"{lag}_bucket", (("le", "2.0"), ("partition", "3"), ("stage", "account")))] == 0
    assert samples[("distillwatch_batch_seconds_count", (("stage", "account"),))] == 1
    assert samples[("distillwatch_alert_latency_seconds_count", (("stage", "account"),))] == 2
    assert 2 <= samples[("distillwatch_alert_latency_seconds_sum", (("stage", "account"),))] / 2 < 3  # newest record


def _record(exc: bool) -> logging.LogRecord:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        info = sys.exc_info() if exc else None
    return logging.LogRecord(
        "distillwatch.streams.agents.sink", logging.WARNING, __file__, 1, "sink: %s\nmore", ("down",), info
    )


def test_logs_are_one_line_per_event_in_text_and_json():
    text = logs.OneLineFormatter().format(_record(exc=True))
    assert "\n" not in text and re.match(r"\d{4}-\d\d-\d\dT[\d:.]+Z WARNING distillwatch.streams.agents.sink: ", text)
    assert "sink: down | more | Traceback" in text
    assert "ValueError: boom | second line" in text
    entry = orjson.loads(logs.JsonFormatter().format(_record(exc=True)))
    assert (entry["level"], entry["logger"], entry["message"]) == (
        "WARNING", "distillwatch.streams.agents.sink", "sink: down\nmore"
    )
    assert "ValueError: boom" in entry["exception"]
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logging.config.dictConfig(logs.logging_config("json", "info"))
        stream = io.StringIO()
        root.handlers[0].setStream(stream)
        logging.getLogger("x").info("hello")
    finally:
        root.handlers[:], root.level = saved
    assert orjson.loads(stream.getvalue())["message"] == "hello"


def test_sasl_and_tls_settings_reach_every_client(monkeypatch):
    monkeypatch.setenv("DW_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DW_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("DW_KAFKA_SASL_USERNAME", "dw")
    monkeypatch.setenv("DW_KAFKA_SASL_PASSWORD", "s3cret-pass")
    monkeypatch.setenv("DW_KAFKA_REPLICATION_FACTOR", "3")
    cfg = settings.load()
    conf = kafka_client.kafka_python_config(cfg)
    assert (conf["security_protocol"], conf["sasl_mechanism"], conf["sasl_plain_username"]) == (
        "SASL_SSL", "SCRAM-SHA-512", "dw")
    assert conf["ssl_context"] is not None
    creds = kafka_client.faust_credentials(cfg)
    assert (creds.protocol.value, creds.mechanism.value, creds.username) == ("SASL_SSL", "SCRAM-SHA-512", "dw")
    rows = {name: value for name, _, value in cfg.describe()}
    assert rows["kafka_sasl_password"] == "****pass" and rows["kafka_replication_factor"] == "3"
