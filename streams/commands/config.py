"""``distillwatch config``: print the effective configuration (environment + defaults), detector
settings (``account.*``, ``cluster.*``) included, each with its environment variable."""

from __future__ import annotations

import argparse

from distillwatch.streams import settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the effective configuration, secrets masked")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    rows = settings.load().describe()
    width = max(len(r[0]) for r in rows)
    env_width = max(len(r[1]) for r in rows)
    for name, env, value in rows:
        print(f"{name:<{width}}  {env:<{env_width}}  {value}")
    return 0
