"""Every topic the pipeline uses, by its configured name
(see :func:`distillwatch.streams.kafka_admin.pipeline_topics`)."""

from __future__ import annotations

from distillwatch.streams.app import app, settings

# the requests topic and its rerouted twin, read by one agent: Faust assigns partition p of both
# (and of the account changelog) to one worker, as they are co-subscribed and equally partitioned
account_input = app.topic(settings.requests_topic, settings.rerouted_topic, partitions=settings.requests_partitions)
links = app.topic(settings.links_topic, partitions=settings.cluster_partitions)
rows = app.topic(settings.rows_topic, partitions=1)
campaigns = app.topic(settings.campaigns_topic, partitions=1)
