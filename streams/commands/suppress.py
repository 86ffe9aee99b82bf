"""``distillwatch suppress add|list|remove``: analysts' "this subject is fine until T" (docs/oncall.md).

A suppressed subject's paging alerts are emitted at ``warning`` while the suppression lasts in
EVENT time, by every worker and by ``replay --suppressions`` alike; ``list --jsonl`` prints that
file's form, so a replay can apply exactly what the stream applied.
"""

from __future__ import annotations

import argparse
import sys

from distillwatch.streams import settings


def duration(text: str) -> str:
    """``--for``: checked when parsed (argparse prints the message), converted when used."""
    from distillwatch.streams.actions import duration_s

    try:
        duration_s(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def register(sub: argparse._SubParsersAction) -> None:
    from distillwatch.models.suppressions import ATTRIBUTES

    p = sub.add_parser("suppress", help="stop a subject from paging for a while (add, list, remove)")
    verbs = p.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, text in (("add", "suppress a subject"), ("remove", "end a suppression now")):
        v = verbs.add_parser(verb, help=text)
        subject = v.add_mutually_exclusive_group(required=True)
        for attribute in ATTRIBUTES:
            subject.add_argument(f"--{attribute}", metavar="VALUE", help=f"the {attribute} to {verb}")
        v.add_argument("--reason", required=(verb == "add"), default="", help="why (kept in the audit trail)")
        v.set_defaults(func=run)
        if verb == "add":
            end = v.add_mutually_exclusive_group(required=True)
            end.add_argument("--for", dest="duration", type=duration, metavar="DURATION",
                             help="from now: 7d, 12h, 30m (event time follows the clock in a live stream)")
            end.add_argument("--until", metavar="RFC3339", help="the event time it ends (recorded data)")
    ls = verbs.add_parser("list", help="the suppressions the workers hold")
    ls.add_argument("--jsonl", action="store_true", help="one JSON object a line, for replay --suppressions")
    ls.set_defaults(func=run)


def _subject(args: argparse.Namespace) -> tuple[str, str]:
    from distillwatch.models.suppressions import ATTRIBUTES

    return next((a, getattr(args, a)) for a in ATTRIBUTES if getattr(args, a))


def run(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError

    from distillwatch.models.alerts import rfc3339
    from distillwatch.models.suppressions import to_line
    from distillwatch.streams import actions

    cfg = settings.load()
    try:
        held = actions.current_suppressions(cfg)
        if args.verb == "list":
            for sup in sorted(held.values(), key=lambda s: s.key):
                if args.jsonl:
                    sys.stdout.buffer.write(to_line(sup) + b"\n")
                else:
                    print(f"{sup.attribute:<9} {sup.value:<32} until {rfc3339(sup.until)}  {sup.reason}")
            return 0
        attribute, value = _subject(args)
        if args.verb == "remove":
            sup = held.get(f"{attribute}:{value}")
            if sup is None:
                print(f"distillwatch suppress: {attribute} {value} is not suppressed", file=sys.stderr)
                return 1
            actions.remove_suppression(cfg, sup, actions.who(), args.reason)
            print(f"removed: {attribute} {value} pages again")
            return 0
        try:
            sup = actions.suppression(attribute, value, args.reason, args.duration or "", args.until or "")
        except ValueError as exc:
            print(f"distillwatch suppress: {exc}", file=sys.stderr)
            return 2
        actions.add_suppression(cfg, sup, actions.who())
        print(f"suppressed: {attribute} {value} does not page until {rfc3339(sup.until)} (event time)")
        return 0
    except KafkaError as exc:
        print(f"distillwatch suppress: cannot reach Kafka at {cfg.kafka_bootstrap_servers} ({exc!r}); "
              "set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
