"""Alerts for people and for the tools on-call already use.

The severity order is the detector's (:mod:`distillwatch.models.alerts`); this package turns an alert
(contract v1.1) into text (:mod:`.text`), PagerDuty Events v2 (:mod:`.pagerduty`), and delivers it
through :class:`.destination.Destination` classes, one file each under :mod:`.destinations`.
:mod:`.delivery` adds what every destination needs: retries with back-off, a dead letter when they
run out, idempotence by ``alert_id``, metrics. ``distillwatch notify`` drives it from Kafka.
"""
