"""One module per ``distillwatch`` subcommand, each with ``register(subparsers)``."""
