"""Topic creation with kafka-python: the broker does not auto-create topics, so every entry point
that writes (worker, publisher) makes sure its topics exist with the configured partition counts."""

from __future__ import annotations

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.settings import Settings


def pipeline_topics(s: Settings) -> list[tuple[str, int]]:
    """``(name, partitions)`` of every topic the pipeline reads or writes (not Faust's changelogs).

    The aggregates topic has one partition so that exactly one worker holds the ClickHouse sink
    (chdb lets only one process open its data directory); the campaigns topic has one so that
    one processor sees every suspicious account and cluster (a few messages a minute)."""
    return [
        (s.requests_topic, s.requests_partitions),
        (s.links_topic, s.cluster_partitions),
        (s.campaigns_topic, 1),
        (s.alerts_topic, s.requests_partitions),
        (s.dead_letter_topic, 1),
        (s.rows_topic, 1),
    ]


def ensure_topics(bootstrap: str, topics: list[tuple[str, int]]) -> None:
    """Create the missing ones; an existing topic is left as it is."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="distillwatch-admin")
    try:
        existing = set(admin.list_topics())
        new = [NewTopic(name, partitions, 1) for name, partitions in topics if name not in existing]
        if new:
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                pass  # another worker won the race
    finally:
        admin.close()
