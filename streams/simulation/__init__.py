"""Simulated worlds: labelled synthetic traffic (the simulator) and the evaluation of a detector's
alerts against those labels (:mod:`distillwatch.streams.simulation.evaluate`).

Not streaming code: ``distillwatch simulate`` / ``evaluate``, the quality tests and the benchmarks
use it; the pipeline never imports it.
"""
