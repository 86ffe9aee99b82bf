"""The one place that turns settings into Kafka connection settings, for kafka-python (admin,
publisher, ``alerts tail``), aiokafka through Faust (the worker), and the start-up check.

A real cluster needs SASL (PLAIN, SCRAM-SHA-256/512) and/or TLS; every client of the project
gets the same ones from here, so a setting never applies to one client and not another.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

from distillwatch.streams.errors import Unreachable, UserError
from distillwatch.streams.settings import Settings

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


def _validated(s: Settings) -> tuple[str, str]:
    protocol, mechanism = s.kafka_security_protocol.upper(), s.kafka_sasl_mechanism.upper()
    if protocol not in PROTOCOLS:
        raise UserError(f"DW_KAFKA_SECURITY_PROTOCOL={s.kafka_security_protocol!r}: use one of {', '.join(PROTOCOLS)}")
    if protocol.startswith("SASL"):
        if mechanism not in MECHANISMS:
            raise UserError(f"DW_KAFKA_SASL_MECHANISM={s.kafka_sasl_mechanism!r}: use one of {', '.join(MECHANISMS)}")
        if not s.kafka_sasl_username or not s.kafka_sasl_password:
            raise UserError(f"{protocol} needs DW_KAFKA_SASL_USERNAME and DW_KAFKA_SASL_PASSWORD")
    return protocol, mechanism


def ssl_context(s: Settings) -> ssl.SSLContext:
    """TLS with the system's CAs, or ``DW_KAFKA_SSL_CAFILE``; a client certificate when given."""
    ctx = ssl.create_default_context(cafile=s.kafka_ssl_cafile or None)
    if s.kafka_ssl_certfile:
        ctx.load_cert_chain(s.kafka_ssl_certfile, s.kafka_ssl_keyfile or None)
    return ctx


def kafka_python_config(s: Settings) -> dict[str, Any]:
    """Keyword arguments for any kafka-python client (``KafkaProducer``, ``KafkaConsumer``, admin)."""
    protocol, mechanism = _validated(s)
    conf: dict[str, Any] = {"bootstrap_servers": s.kafka_bootstrap_servers, "security_protocol": protocol}
    if protocol.startswith("SASL"):
        conf.update(sasl_mechanism=mechanism, sasl_plain_username=s.kafka_sasl_username,
                    sasl_plain_password=s.kafka_sasl_password)
    if protocol.endswith("SSL"):
        conf["ssl_context"] = ssl_context(s)
    return conf


def faust_credentials(s: Settings) -> Any:
    """``broker_credentials`` for :class:`faust.App` (``None`` for plain text)."""
    import faust

    protocol, mechanism = _validated(s)
    ctx = ssl_context(s) if protocol.endswith("SSL") else None
    if protocol.startswith("SASL"):
        return faust.SASLCredentials(username=s.kafka_sasl_username, password=s.kafka_sasl_password,
                                     ssl_context=ctx, mechanism=mechanism)
    return faust.SSLCredentials(ctx) if ctx is not None else None


def admin(s: Settings) -> Any:
    """A connected ``KafkaAdminClient``, or :class:`~distillwatch.streams.errors.Unreachable` saying which
    address did not answer and why: at once when no address accepts a connection, otherwise
    within ``DW_KAFKA_CONNECT_TIMEOUT_S`` (the port answers but speaks no Kafka we understand)."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    config = kafka_python_config(s)  # a wrong setting is named before any connection is tried
    refused, hint = socket_error(s), "start it (make kafka-up) or set KAFKA_BOOTSTRAP_SERVERS / KAFKA_PORT"
    if refused is None:
        timeout_ms = int(s.kafka_connect_timeout_s * 1000)
        try:
            return KafkaAdminClient(client_id="distillwatch-admin", bootstrap_timeout_ms=timeout_ms,
                                    request_timeout_ms=max(timeout_ms, 1000), **config)
        except KafkaError as exc:
            refused = (f"the port answers but no Kafka {s.kafka_security_protocol} session started within "
                       f"{s.kafka_connect_timeout_s:g} s: {type(exc).__name__}")
            hint = "check the port, DW_KAFKA_SECURITY_PROTOCOL and the DW_KAFKA_SASL_* credentials"
    raise Unreachable(f"cannot reach Kafka at {s.kafka_bootstrap_servers} ({refused}); {hint}")


def socket_error(s: Settings) -> str | None:
    """``None`` when some bootstrap address accepts a TCP connection, else the first one's error
    (``Connection refused``, a DNS failure, a time-out): seconds faster than Kafka's own retries."""
    errors = []
    for server in s.kafka_bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)),
                                          timeout=s.kafka_connect_timeout_s):
                return None
        except (OSError, ValueError) as err:
            errors.append(getattr(err, "strerror", None) or str(err) or type(err).__name__)
    return errors[0] if errors else "no address"


def check(s: Settings) -> None:
    """Raise :class:`~distillwatch.streams.errors.Unreachable` unless the cluster answers an admin request."""
    client = admin(s)
    try:
        client.list_topics()
    finally:
        client.close()


def wait_until_reachable(s: Settings, say: Callable[[str], None], every_s: float = 5.0,
                         say_every_s: float = 60.0) -> None:
    """For the worker: fail at once (``DW_KAFKA_WAIT_S=0``) or keep trying for up to
    ``DW_KAFKA_WAIT_S`` seconds (``inf``: for ever), saying so at the first failure and then at
    most once every ``say_every_s``, so an outage neither hides nor floods the log."""
    deadline = time.monotonic() + s.kafka_wait_s
    last_said = -float("inf")
    while True:
        try:
            check(s)
            return
        except Unreachable as exc:
            now = time.monotonic()
            if now >= deadline:
                raise
            if now - last_said >= say_every_s:
                left = "for ever" if s.kafka_wait_s == float("inf") else f"for up to {deadline - now:.0f} s more"
                say(f"{exc}; retrying every {every_s:g} s {left} (DW_KAFKA_WAIT_S)")
                last_said = now
            time.sleep(min(every_s, deadline - now))
