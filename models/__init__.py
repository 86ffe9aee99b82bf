"""distillwatch's detection core: pure Python, no Kafka, Faust or ClickHouse imports.

The streaming pipeline and offline replay run exactly this code, so their alerts are identical.
"""
