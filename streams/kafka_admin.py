"""Topic creation with kafka-python: the broker does not auto-create topics, so every entry point
that writes (worker, publisher) makes sure its topics exist with the configured partition counts."""

from __future__ import annotations

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from distillwatch.streams import kafka_client
from distillwatch.streams.settings import Settings, load


def pipeline_topics(s: Settings) -> list[tuple[str, int]]:
    """``(name, partitions)`` of every topic the pipeline reads or writes (not Faust's changelogs).

    The aggregates topic has one partition so that exactly one worker holds the ClickHouse sink
    (chdb lets only one process open its data directory); the campaigns topic has one so that
    one processor sees every suspicious account and cluster (a few messages a minute)."""
    return [
        (s.requests_topic, s.requests_partitions),
        (s.rerouted_topic, s.requests_partitions),
        (s.links_topic, s.cluster_partitions),
        (s.campaigns_topic, 1),
        (s.alerts_topic, s.requests_partitions),
        (s.dead_letter_topic, 1),
        (s.rows_topic, 1),
    ]


COMPACTED = {"cleanup.policy": "compact"}


def suppressions_topic(s: Settings) -> str:
    """The compacted topic of analysts' suppressions: the changelog of the workers' global table
    (:data:`distillwatch.streams.state.suppressions`), under the name Faust gives it, so that a worker recovers
    and follows it like any table (a custom changelog topic stalls Faust's partition assignor)."""
    return f"{s.app_id}-suppressions-changelog"


def ensure_topics(target: Settings | str, topics: list[tuple[str, int]], configs: dict[str, str] | None = None) -> None:
    """Create the missing ones with ``DW_KAFKA_REPLICATION_FACTOR`` replicas (and ``configs``, e.g.
    :data:`COMPACTED`); an existing topic is left as it is. ``target`` is the settings (security
    included) or a plain-text bootstrap address. Raises :class:`~distillwatch.streams.errors.Unreachable` within
    seconds when the cluster does not answer."""
    s = load(kafka_bootstrap_servers=target) if isinstance(target, str) else target
    admin = kafka_client.admin(s)
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, partitions, s.kafka_replication_factor, topic_configs=configs or {})
               for name, partitions in topics if name not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # another worker won the race
    finally:
        admin.close()
