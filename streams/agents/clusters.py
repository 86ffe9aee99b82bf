"""The cluster stage's Faust wiring: the agent loop over cluster-links batches and the revoke hook
around :class:`distillwatch.streams.stages.clusters.ClusterStage` (where the logic lives)."""

from __future__ import annotations

from distillwatch.streams import state, topics
from distillwatch.streams.agents.refill import refill
from distillwatch.streams.app import app, metrics, settings
from distillwatch.streams.stages.clusters import ClusterStage
from distillwatch.streams.stages.outbox import Outbox

stage = ClusterStage(settings, state.cluster_state.data, state.changelog_name(state.cluster_state), metrics,
                     state.live_suppressions)


@app.agent(topics.links)
async def score_clusters(stream) -> None:
    """decode → receive → produce → store, one batch of link records at a time."""
    async for batch in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        with metrics.batch("cluster", batch):
            out = Outbox()
            for event in batch:
                message = event.message
                for offset, value in await refill.missing(stage, message):
                    stage.apply(message.partition, offset, value)
                stage.apply(message.partition, message.offset, message.value)
            stage.finish(out)
            await out.deliver(app)


@app.on_partitions_revoked.connect
async def set_revoked_aside(sender, revoked, **kwargs) -> None:
    stage.revoke(tp.partition for tp in revoked if tp.topic == settings.links_topic)


@app.on_partitions_assigned.connect
async def take_back_assigned(sender, assigned, **kwargs) -> None:
    stage.assign((tp.partition for tp in assigned if tp.topic == settings.links_topic), app.consumer_generation_id)
