"""The account stage's Faust wiring: the agent loop over requests batches, the idle-flush timer
and the revoke hook around :class:`distillwatch.streams.stages.accounts.AccountStage` (where the logic lives)."""

from __future__ import annotations

import asyncio
import functools
import logging

from distillwatch.streams import state, topics
from distillwatch.streams.agents.refill import refill
from distillwatch.streams.app import app, metrics, settings
from distillwatch.streams.stages.accounts import AccountStage
from distillwatch.streams.stages.outbox import Outbox

DELIVER_EVERY_EVENTS = 5000
log = logging.getLogger(__name__)

stage = AccountStage(settings, state.account_state.data, state.changelog_name(state.account_state), metrics,
                     suppressions=state.live_suppressions)
for _gauge, _counter in (("late_events", "late"), ("duplicate_events", "duplicates"),
                         ("implausible_ahead", "too_far_ahead"), ("implausible_behind", "too_far_behind"),
                         ("processing_errors", "errors")):
    metrics.gauges[_gauge] = functools.partial(stage.processor_total, _counter)
metrics.gauges["accounts_in_memory"] = functools.partial(stage.accounts_held, False)
metrics.gauges["accounts_set_aside"] = functools.partial(stage.accounts_held, True)
metrics.gauges["set_aside_lost"] = stage.cold_lost
lock = asyncio.Lock()  # the agent and the timer take turns on the stage


@app.agent(topics.account_input)
async def score_accounts(stream) -> None:
    """decode → process → produce → store, one batch of records at a time (requests records, and
    what other partitions forwarded to this one with their marks)."""
    requests_topic = settings.requests_topic
    async for batch in stream.take_events(settings.batch_max, within=settings.batch_within_s):
        async with lock:
            with metrics.batch("account", batch):
                out = Outbox()
                for event in batch:
                    message = event.message
                    apply = stage.apply if message.topic == requests_topic else stage.apply_rerouted
                    for offset, value in await refill.missing(stage, message):
                        apply(message.partition, offset, value, out)
                    apply(message.partition, message.offset, message.value, out)
                    if stage.pending_events >= DELIVER_EVERY_EVENTS:  # batches of JSON-array records
                        stage.finish(out)  # can be large: keep alert latency and memory bounded
                        await out.deliver(app)
                stage.finish(out)
                await out.deliver(app)


@app.timer(1.0)
async def flush_idle_partitions() -> None:
    """Idle partitions (also ones that never had an event) close their windows like end of input.
    Not while stopping: the table store records what its databases hold then (a clean stop), and
    this timer, unlike the agents, is not waited for."""
    if app.rebalancing or app.in_recovery or app.should_stop or not app.consumer:
        return
    consumer = app.consumer
    highwaters = {tp.partition: consumer.highwater(tp)
                  for tp in consumer.assignment() if tp.topic == settings.requests_topic}
    if not highwaters:
        return
    async with lock:
        out = Outbox()
        stage.flush_idle(highwaters, out)
        await out.deliver(app)


@app.on_partitions_revoked.connect
async def set_revoked_aside(sender, revoked, **kwargs) -> None:
    """Faust revokes every partition at a rebalance: their processors wait for the assignment."""
    stage.revoke(tp.partition for tp in revoked if tp.topic == settings.requests_topic)


@app.on_partitions_assigned.connect
async def take_back_assigned(sender, assigned, **kwargs) -> None:
    """Partitions this worker held in the previous generation keep their processors; the others are
    rebuilt from the table (recovered by Faust meanwhile) when their first record comes."""
    back = stage.assign((tp.partition for tp in assigned if tp.topic == settings.requests_topic),
                        app.consumer_generation_id)
    log.info("account partitions assigned in generation %d; kept from the last: %s", app.consumer_generation_id,
             back)
