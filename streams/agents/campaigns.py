"""The campaign stage's Faust wiring: the agent loop over campaigns batches and the revoke hook
around :class:`distillwatch.streams.stages.campaigns.CampaignStage` (where the logic lives)."""

from __future__ import annotations

from distillwatch.streams import state, topics
from distillwatch.streams.agents.refill import refill
from distillwatch.streams.app import app, metrics, settings
from distillwatch.streams.stages.campaigns import CampaignStage
from distillwatch.streams.stages.outbox import Outbox

stage = CampaignStage(settings, state.campaign_state.data, state.changelog_name(state.campaign_state), metrics,
                      state.live_suppressions)


@app.agent(topics.campaigns)
async def join_campaigns(stream) -> None:
    """decode → receive → produce → store, one batch of campaign records at a time."""
    async for batch in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        with metrics.batch("campaign", batch):
            out = Outbox()
            for event in batch:
                message = event.message
                for offset, value in await refill.missing(stage, message):
                    stage.apply(offset, value)
                stage.apply(message.offset, message.value)
            stage.finish(out)
            await out.deliver(app)


@app.on_partitions_revoked.connect
async def forget_revoked(sender, revoked, **kwargs) -> None:
    if any(tp.topic == settings.campaigns_topic for tp in revoked):
        stage.revoke()
