"""The one place that reads the environment.

Every setting has an environment variable and a default; CLI flags override them by passing
keyword arguments to :func:`load`. ``distillwatch config`` prints the result, secrets masked.

Detector settings are the fields of :class:`distillwatch.models.config.DetectorConfig`; each gets its
variable by rule (:func:`detector_env`): account fields ``DW_<FIELD>`` (so ``DW_LATENESS_S``),
cluster fields ``DW_CLUSTER_<FIELD>``, campaign fields ``DW_CAMPAIGN_<FIELD>``.
:func:`detector_config` is the one way to the detector's
configuration, for the replay engine and the streaming agents alike.
"""

from __future__ import annotations

import dataclasses
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from distillwatch.models.config import AccountConfig, CampaignConfig, ClusterConfig, DetectorConfig


def _default_data_dir() -> str:
    """``.run`` under the working directory, made absolute when the settings are read.

    Not next to the code (inside site-packages for an installed wheel) and not a per-user
    ``$XDG_STATE_HOME``: each deployment or checkout gets its own directory, so two never share an
    embedded ClickHouse (one process may hold it) or Faust's table state; ``make`` and infra/ run
    from the repo root and so keep using the repo's ``.run``. Set ``DW_DATA_DIR`` to put it elsewhere.
    """
    return str(Path.cwd() / ".run")


@dataclass(frozen=True)
class Settings:
    """Runtime configuration of distillwatch (streaming worker, replay, tools)."""

    kafka_bootstrap_servers: str = field(
        default="127.0.0.1:19092", metadata={"env": "KAFKA_BOOTSTRAP_SERVERS"}
    )
    requests_topic: str = field(default="dw.requests", metadata={"env": "DW_REQUESTS_TOPIC"})
    alerts_topic: str = field(default="dw.alerts", metadata={"env": "DW_ALERTS_TOPIC"})
    dead_letter_topic: str = field(default="dw.dead-letter", metadata={"env": "DW_DEAD_LETTER_TOPIC"})
    links_topic: str = field(default="dw.cluster-links", metadata={"env": "DW_LINKS_TOPIC"})
    rows_topic: str = field(default="dw.aggregates", metadata={"env": "DW_ROWS_TOPIC"})
    campaigns_topic: str = field(default="dw.campaigns", metadata={"env": "DW_CAMPAIGNS_TOPIC"})
    requests_partitions: int = field(default=4, metadata={"env": "DW_REQUESTS_PARTITIONS"})
    cluster_partitions: int = field(default=4, metadata={"env": "DW_CLUSTER_PARTITIONS"})
    app_id: str = field(default="distillwatch", metadata={"env": "DW_APP_ID"})
    clickhouse_dsn: str = field(default="", metadata={"env": "DW_CLICKHOUSE_DSN"})
    clickhouse_database: str = field(default="distillwatch", metadata={"env": "DW_CLICKHOUSE_DATABASE"})
    data_dir: str = field(default_factory=_default_data_dir, metadata={"env": "DW_DATA_DIR"})
    detector: DetectorConfig = field(default_factory=DetectorConfig, metadata={"env": None})  # DW_<FIELD>
    idle_flush_s: float = field(default=5.0, metadata={"env": "DW_IDLE_FLUSH_S"})
    batch_max: int = field(default=2000, metadata={"env": "DW_BATCH_MAX"})
    # each of the three stages an account alert crosses (accounts, clusters' watermark, campaigns)
    # waits up to this long to fill a batch: at 0.2 s, p99 alert latency at 5,000 events/s was
    # 1.22 s, at 0.1 s 0.71 s, with the same throughput (docs/performance.md)
    batch_within_s: float = field(default=0.1, metadata={"env": "DW_BATCH_WITHIN_S"})
    sink_enabled: int = field(default=1, metadata={"env": "DW_SINK"})
    session_timeout_s: float = field(default=30.0, metadata={"env": "DW_SESSION_TIMEOUT_S"})
    metrics_log_s: float = field(default=30.0, metadata={"env": "DW_METRICS_LOG_S"})
    web_port: int = field(default=6066, metadata={"env": "DW_WEB_PORT"})
    # table state (docs/scaling.md): "memory" (rebuilt from the changelogs at every start) or "rocksdb"
    # (local databases under data_dir, a restart reads only the changelogs' tails)
    store: str = field(default="rocksdb", metadata={"env": "DW_STORE"})
    # per local database (one per table partition held): Faust's defaults are a 2 GiB block cache and
    # 3 x 64 MiB write buffers each, which a worker holding many partitions cannot afford once it
    # reads silent accounts back from the store (models/cold_store.py)
    rocksdb_cache_mb: int = field(default=64, metadata={"env": "DW_ROCKSDB_CACHE_MB"})
    rocksdb_write_buffer_mb: int = field(default=16, metadata={"env": "DW_ROCKSDB_WRITE_BUFFER_MB"})
    standby_replicas: int = field(default=0, metadata={"env": "DW_STANDBY_REPLICAS"})  # table_standby_replicas
    pagerduty_routing_key: str = field(
        default="", metadata={"env": "DW_PAGERDUTY_ROUTING_KEY", "secret": True}
    )

    @property
    def rerouted_topic(self) -> str:
        """The account stage's internal topic (partitioned like the requests topic): events read
        off their owner partition, forwarded to it, and every source partition's mark."""
        return f"{self.requests_topic}.rerouted"

    @property
    def effective_clickhouse_dsn(self) -> str:
        """The DSN to connect to: the configured one, or the embedded engine under ``data_dir``."""
        return self.clickhouse_dsn or f"chdb://{Path(self.data_dir).resolve() / 'clickhouse'}"

    def describe(self) -> list[tuple[str, str, str]]:
        """Rows of (setting, environment variable, value) with secrets masked, for ``config``."""
        rows = []
        for f in fields(self):
            if f.name == "detector":
                continue  # listed field by field below
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                value = "****" + str(value)[-4:]
            rows.append((f.name, f.metadata["env"], mask_url(str(value))))
        for section, name, env in detector_settings():
            rows.append((f"{section}.{name}", env, str(getattr(getattr(self.detector, section), name))))
        rows.append(("effective_clickhouse_dsn", "-", mask_url(self.effective_clickhouse_dsn)))
        return rows

    # alert delivery (`distillwatch notify`, docs/paging.md)
    notify_group: str = field(default="distillwatch-notify", metadata={"env": "DW_NOTIFY_GROUP"})
    notify_dead_letter_topic: str = field(
        default="dw.alerts.undelivered", metadata={"env": "DW_NOTIFY_DEAD_LETTER_TOPIC"}
    )
    notify_metrics_port: int = field(default=6067, metadata={"env": "DW_NOTIFY_METRICS_PORT"})
    notify_max_attempts: int = field(default=6, metadata={"env": "DW_NOTIFY_MAX_ATTEMPTS"})
    notify_backoff_s: float = field(default=0.5, metadata={"env": "DW_NOTIFY_BACKOFF_S"})
    notify_timeout_s: float = field(default=10.0, metadata={"env": "DW_NOTIFY_TIMEOUT_S"})
    web_url: str = field(default="http://127.0.0.1:6066/", metadata={"env": "DW_WEB_URL"})
    runbook_url: str = field(default="", metadata={"env": "DW_RUNBOOK_URL"})
    alertmanager_url: str = field(default="", metadata={"env": "DW_ALERTMANAGER_URL"})
    alertmanager_resend_s: float = field(default=60.0, metadata={"env": "DW_ALERTMANAGER_RESEND_S"})
    alertmanager_max_open: int = field(default=10_000, metadata={"env": "DW_ALERTMANAGER_MAX_OPEN"})
    pagerduty_url: str = field(
        default="https://events.pagerduty.com/v2/enqueue", metadata={"env": "DW_PAGERDUTY_URL"}
    )
    pagerduty_min_severity: str = field(default="error", metadata={"env": "DW_PAGERDUTY_MIN_SEVERITY"})
    webhook_url: str = field(default="", metadata={"env": "DW_WEBHOOK_URL"})
    webhook_secret: str = field(default="", metadata={"env": "DW_WEBHOOK_SECRET", "secret": True})
    slack_webhook_url: str = field(default="", metadata={"env": "DW_SLACK_WEBHOOK_URL", "secret": True})
    slack_min_severity: str = field(default="warning", metadata={"env": "DW_SLACK_MIN_SEVERITY"})

    # on-call page and ad-hoc queries (docs/oncall.md)
    web_bind: str = field(default="127.0.0.1", metadata={"env": "DW_WEB_BIND"})
    web_token: str = field(default="", metadata={"env": "DW_WEB_TOKEN", "secret": True})
    query_timeout_s: float = field(default=30.0, metadata={"env": "DW_QUERY_TIMEOUT_S"})
    query_max_rows: int = field(default=100_000, metadata={"env": "DW_QUERY_MAX_ROWS"})
    # the sink worker's read-only ClickHouse HTTP endpoint (0: off), and where clients find it
    query_port: int = field(default=8124, metadata={"env": "DW_QUERY_PORT"})
    query_url: str = field(default="", metadata={"env": "DW_QUERY_URL"})
    # operating it (docs/operating.md): Kafka security and topics, start-up, web server, logs
    kafka_port: int = field(default=0, metadata={"env": "KAFKA_PORT"})  # as infra/kafka/kafka.sh: 127.0.0.1:PORT
    kafka_security_protocol: str = field(default="PLAINTEXT", metadata={"env": "DW_KAFKA_SECURITY_PROTOCOL"})
    kafka_sasl_mechanism: str = field(default="PLAIN", metadata={"env": "DW_KAFKA_SASL_MECHANISM"})
    kafka_sasl_username: str = field(default="", metadata={"env": "DW_KAFKA_SASL_USERNAME"})
    kafka_sasl_password: str = field(default="", metadata={"env": "DW_KAFKA_SASL_PASSWORD", "secret": True})
    kafka_ssl_cafile: str = field(default="", metadata={"env": "DW_KAFKA_SSL_CAFILE"})
    kafka_ssl_certfile: str = field(default="", metadata={"env": "DW_KAFKA_SSL_CERTFILE"})
    kafka_ssl_keyfile: str = field(default="", metadata={"env": "DW_KAFKA_SSL_KEYFILE"})
    kafka_replication_factor: int = field(default=1, metadata={"env": "DW_KAFKA_REPLICATION_FACTOR"})
    kafka_connect_timeout_s: float = field(default=5.0, metadata={"env": "DW_KAFKA_CONNECT_TIMEOUT_S"})
    kafka_wait_s: float = field(default=0.0, metadata={"env": "DW_KAFKA_WAIT_S"})  # worker: 0 = fail at once
    log_format: str = field(default="text", metadata={"env": "DW_LOG_FORMAT"})

    @property
    def effective_query_url(self) -> str:
        """The worker query endpoint to use when the embedded directory is held by a worker."""
        return self.query_url or f"http://127.0.0.1:{self.query_port}/"


def mask_url(text: str) -> str:
    """``text`` with the password of a ``scheme://user:password@host`` URL replaced by ``****``, so a
    DSN can be printed (``config``, error messages, the page's JSON) without its secret.

    >>> mask_url("http://dw:s3cret@ch:8123/?x=1")
    'http://dw:****@ch:8123/?x=1'
    """
    return _URL_PASSWORD.sub(r"\1****@", text)


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@", re.IGNORECASE)


def _coerce(raw: str, typ: type, env: str) -> object:
    try:
        return typ(raw)
    except ValueError:
        raise SystemExit(f"environment variable {env}={raw!r} is not a valid {typ.__name__}") from None


_TYPES = {"str": str, "int": int, "float": float}
_SECTIONS = {"account": AccountConfig, "cluster": ClusterConfig, "campaign": CampaignConfig}


def detector_env(section: str, name: str) -> str:
    """The environment variable of a detector setting: ``DW_LATENESS_S``, ``DW_CLUSTER_MAX_MEMBERS``."""
    prefix = "DW_" if section == "account" else f"DW_{section.upper()}_"
    return prefix + name.upper()


def detector_settings() -> list[tuple[str, str, str]]:
    """``(section, field, environment variable)`` of every detector setting."""
    return [(section, f.name, detector_env(section, f.name))
            for section, cls in _SECTIONS.items() for f in fields(cls)]


def _env_values(cls: type, env_of) -> dict[str, object]:
    values: dict[str, object] = {}
    for f in fields(cls):
        env = env_of(f)
        if env is not None and os.environ.get(env, "") != "":
            values[f.name] = _coerce(os.environ[env], _TYPES[f.type], env)
    return values


def detector_config(s: Settings) -> DetectorConfig:
    """The detector configuration both the replay engine and the streaming agents are built from."""
    return s.detector


def load(**overrides: object) -> Settings:
    """Settings from the environment, then ``overrides`` (CLI flags; ``None`` means not given)."""
    values = _env_values(Settings, lambda f: f.metadata["env"])
    values["detector"] = DetectorConfig(**{
        section: cls(**_env_values(cls, lambda f, section=section: detector_env(section, f.name)))
        for section, cls in _SECTIONS.items()
    })
    _bootstrap_from_port(values)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return dataclasses.replace(Settings(), **values)


def _bootstrap_from_port(values: dict[str, object]) -> None:
    """``KAFKA_PORT`` (what ``make`` and ``infra/kafka/kafka.sh`` use) names the local broker when
    ``KAFKA_BOOTSTRAP_SERVERS`` is not set; when both are set and disagree, say which one wins,
    since following a doc on another port would otherwise hang silently on the wrong broker."""
    port = values.get("kafka_port")
    if not port:
        return
    servers = values.get("kafka_bootstrap_servers")
    if servers is None:
        values["kafka_bootstrap_servers"] = f"127.0.0.1:{port}"
    elif not any(s.strip().endswith(f":{port}") for s in str(servers).split(",")):
        print(f"distillwatch: warning: KAFKA_BOOTSTRAP_SERVERS={servers} and KAFKA_PORT={port} disagree; "
              f"using KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
