"""distillwatch's I/O side: Kafka (Faust), ClickHouse, files and the command line."""
