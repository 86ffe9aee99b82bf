"""Score a detector's alerts against a world's ground truth.

Definitions (docs/simulation.md, "Evaluation"):

- An account is *named* (implicated) when it is listed in the ``accounts`` or ``accounts_added`` of
  at least one alert at or above ``min_severity`` (order info < warning < error < critical) whose
  ``action`` is not ``resolve``; ``accounts_total`` beyond the listed 1,000 is not used.
- *Recall* of a scenario: share of its attack accounts named (recall by named accounts).
- *Precision* overall: attack accounts / labelled accounts among all implicated accounts. Per
  scenario: the same share, over the accounts implicated by the alerts that implicate at least one
  account of that scenario (how clean the alerts that catch it are). Accounts missing from the
  labels are counted apart (``unlabelled``) and left out of precision.
- *Time to detect*: for each implicated attack account, the earliest ``detected_at`` among its alerts
  minus its ``attack_start``, in minutes of event time; median and 90th percentile (linear
  interpolation between ranks).
- *Pages per day*: alerts at ``error`` or ``critical`` (whatever ``min_severity`` is) that are not a
  ``resolve``, divided by the world's length in days: ``world_days`` when given, else the span from
  the earliest of attack starts and alert ``window_start``/``detected_at`` to the latest
  ``detected_at`` (at least an hour).
- *Notifications per day*: what a pager (PagerDuty, Alertmanager) notifies a person of: a page that
  opens an incident (a ``dedup_key`` not open, or open again after its ``resolve``) or raises its
  severity. Membership updates of an open incident carry its dedup key at the same severity and
  do not re-page, so they count in *pages* but not here.
- *Campaigns*: every attack scenario is one campaign, except the scenarios in ``independent``
  (each account its own operation). *Active campaigns*: those with an account in the labels.
- *Incidents*: distinct ``dedup_key`` of the pages. An incident belongs to a campaign when more
  than half of the labelled accounts named in its pages are that campaign's; *incidents per
  campaign* (max and mean) count over the campaigns that have at least one.
- *False pages*: pages whose named, labelled accounts are mostly benign, each charged to the benign
  population holding most of them; per simulated week = count / (world days / 7).
- *Precision by verdict* (``--verdicts``, analysts' labels instead of a world's): over the paging
  incidents (distinct ``dedup_key`` of the pages), by kind and by highest severity, true-positive /
  (true-positive + false-positive); incidents nobody labelled are counted apart (``unlabelled``).
  This is the precision a production deployment can measure, where no simulated labels exist.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson

from distillwatch.models.alerts import SEVERITY_RANK
from distillwatch.streams.simulation.events import epoch_ms
from distillwatch.streams.simulation.world import INDEPENDENT_SCENARIOS

SEVERITY_CHOICES = ("info", "warning", "error", "critical")  # what --min-severity may name
PAGING = SEVERITY_RANK["error"]
MIN_SPAN_DAYS = 1 / 24


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default); None for no values."""
    if not values:
        return None
    v = sorted(values)
    pos = q * (len(v) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (pos - lo)


def read_labels(path: str | Path) -> dict[str, tuple[str, str, int | None]]:
    """account_id -> (label, scenario, attack_start in epoch ms or None)."""
    with open(path, newline="") as f:
        return {
            row["account_id"]: (
                row["label"],
                row["scenario"],
                epoch_ms(row["attack_start"]) if row["attack_start"] else None,
            )
            for row in csv.DictReader(f)
        }


def read_alerts(path: str | Path) -> list[dict]:
    """Alert objects (alert.md), one JSON object per non-blank line."""
    with open(path, "rb") as f:
        return [orjson.loads(line) for line in f if line.strip()]


def named(alert: dict) -> list[str]:
    """The accounts an alert names: its ``accounts`` and, in an update, its ``accounts_added``."""
    return [*alert.get("accounts", ()), *alert.get("accounts_added", ())]


def is_page(alert: dict) -> bool:
    """An alert that pages a person: ``error`` or ``critical``, and not a ``resolve``."""
    return SEVERITY_RANK.get(alert.get("severity"), -1) >= PAGING and alert.get("action") != "resolve"


Labels = dict[str, tuple[str, str, int | None]]


def campaign_of(labels: Labels, independent: Iterable[str]) -> Callable[[str], str | None]:
    """account -> its campaign id (the scenario, or ``scenario:account`` when independent)."""
    alone = frozenset(independent)

    def of(acct: str) -> str | None:
        label, scenario, _ = labels.get(acct, ("", "", None))
        if label != "attack":
            return None
        return f"{scenario}:{acct}" if scenario in alone else scenario

    return of


def _majority(keys: list[str]) -> str | None:
    """The key held by more than half of ``keys``, if any."""
    counts: dict[str, int] = defaultdict(int)
    for k in keys:
        counts[k] += 1
    best = max(counts, key=lambda k: (counts[k], k), default=None)
    return best if best is not None and 2 * counts[best] > len(keys) else None


def _incidents(pages: list[dict], labels: Labels, of: Callable[[str], str | None]) -> dict[str, str | None]:
    """Paging dedup_key -> the campaign that owns the incident (None: no campaign holds most)."""
    members: dict[str, set[str]] = defaultdict(set)
    for alert in pages:
        members[alert.get("dedup_key") or alert.get("alert_id", "")].update(named(alert))
    owners = {}
    for key, accts in members.items():
        labelled = [a for a in accts if a in labels]
        owners[key] = _majority([of(a) or "" for a in labelled]) or None
    return owners


def notifications(alerts: list[dict]) -> int:
    """Pages a pager notifies (see module doc), in the alerts' order.

    >>> page = lambda key, sev, action="trigger": {"dedup_key": key, "severity": sev, "action": action}
    >>> notifications([page("c1", "error"), page("c1", "error"), page("c1", "critical"), page("a", "warning"),
    ...                page("c1", "critical", "resolve"), page("c1", "error")])
    3
    """
    open_rank: dict[str, int] = {}
    count = 0
    for alert in alerts:
        key = alert.get("dedup_key") or alert.get("alert_id", "")
        if alert.get("action") == "resolve":
            open_rank.pop(key, None)
        elif (rank := SEVERITY_RANK.get(alert.get("severity"), -1)) >= PAGING and rank > open_rank.get(key, -1):
            open_rank[key] = rank
            count += 1
    return count


def _false_pages(pages: list[dict], labels: Labels) -> dict[str, int]:
    """Benign population -> pages whose labelled, named accounts are mostly benign, charged to it."""
    out: dict[str, int] = defaultdict(int)
    for alert in pages:
        labelled = [labels[a] for a in named(alert) if a in labels]
        if _majority([label for label, _, _ in labelled]) == "benign":
            out[max(_population_counts(labelled).items(), key=lambda kv: (kv[1], kv[0]))[0]] += 1
    return out


def _population_counts(labelled: list[tuple[str, str, int | None]]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for label, population, _ in labelled:
        if label == "benign":
            counts[population] += 1
    return counts


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def evaluate(
    labels_path: str | Path,
    alerts_path: str | Path,
    min_severity: str = "error",
    world_days: float | None = None,
    independent: Iterable[str] = INDEPENDENT_SCENARIOS,
) -> dict:
    """Recall, precision, time to detect, incidents per campaign, false pages, benign accounts
    implicated and pages per day (see module doc)."""
    labels = read_labels(labels_path)
    alerts = read_alerts(alerts_path)
    floor = SEVERITY_RANK[min_severity]
    considered = [
        a for a in alerts if SEVERITY_RANK.get(a.get("severity"), -1) >= floor and a.get("action") != "resolve"
    ]
    pages = [a for a in alerts if is_page(a)]
    of = campaign_of(labels, independent)
    owners = _incidents(pages, labels, of)
    incidents_of: dict[str, int] = defaultdict(int)
    for owner in owners.values():
        if owner:
            incidents_of[owner] += 1
    campaigns_by_scenario: dict[str, set[str]] = defaultdict(set)
    for acct, (label, scenario, _) in labels.items():
        if label == "attack":
            campaigns_by_scenario[scenario].add(of(acct) or "")

    first_detected: dict[str, int] = {}
    for alert in considered:
        at = epoch_ms(alert["detected_at"])
        for acct in named(alert):
            if acct not in first_detected or at < first_detected[acct]:
                first_detected[acct] = at

    attack_by_scenario: dict[str, list[str]] = defaultdict(list)
    benign_by_population: dict[str, list[str]] = defaultdict(list)
    for acct, (label, scenario, _) in labels.items():
        (attack_by_scenario if label == "attack" else benign_by_population)[scenario].append(acct)

    scenarios = {}
    all_ttd: list[float] = []
    for scenario, accts in sorted(attack_by_scenario.items()):
        ttd = [(first_detected[a] - labels[a][2]) / 60_000 for a in accts if a in first_detected]
        all_ttd += ttd
        scenarios[scenario] = {
            "accounts": len(accts),
            "detected": len(ttd),
            "recall": _ratio(len(ttd), len(accts)),
            "precision": _scenario_precision(considered, labels, scenario),
            "ttd_median_min": _minutes(percentile(ttd, 0.5)),
            "ttd_p90_min": _minutes(percentile(ttd, 0.9)),
            **_campaign_counts(campaigns_by_scenario[scenario], incidents_of),
        }

    implicated = set(first_detected)
    attack_hit = sum(1 for a in implicated if a in labels and labels[a][0] == "attack")
    benign_hit = sum(1 for a in implicated if a in labels and labels[a][0] == "benign")
    n_attack = sum(len(v) for v in attack_by_scenario.values())
    n_benign = sum(len(v) for v in benign_by_population.values())
    days, days_source = (world_days, "given") if world_days else (_span_days(labels, alerts), "labels+alerts")
    by_severity: dict[str, int] = defaultdict(int)
    for a in alerts:
        by_severity[a.get("severity", "?")] += 1

    false_pages = _false_pages(pages, labels)
    weeks = days / 7
    return {
        "min_severity": min_severity,
        "world_days": round(days, 4),
        "world_days_source": days_source,
        "alerts": {
            "total": len(alerts),
            "considered": len(considered),
            "by_severity": dict(sorted(by_severity.items())),
        },
        "overall": {
            "attack_accounts": n_attack,
            "detected": attack_hit,
            "recall": _ratio(attack_hit, n_attack),
            "implicated": len(implicated),
            "implicated_attack": attack_hit,
            "implicated_benign": benign_hit,
            "implicated_unlabelled": len(implicated) - attack_hit - benign_hit,
            "precision": _ratio(attack_hit, attack_hit + benign_hit),
            "ttd_median_min": _minutes(percentile(all_ttd, 0.5)),
            "ttd_p90_min": _minutes(percentile(all_ttd, 0.9)),
            "pages": len(pages),
            "pages_per_day": round(len(pages) / days, 3),
            "notifications": (notified := notifications(alerts)),
            "notifications_per_day": round(notified / days, 3),
            "incidents": len(owners),
            "incidents_per_day": round(len(owners) / days, 3),
            "active_campaigns": sum(len(c) for c in campaigns_by_scenario.values()),
            **_campaign_counts({c for cs in campaigns_by_scenario.values() for c in cs}, incidents_of),
        },
        "scenarios": scenarios,
        "benign": {
            "accounts": n_benign,
            "implicated": benign_hit,
            "implicated_pct": _pct(benign_hit, n_benign),
            "false_pages": sum(false_pages.values()),
            "false_pages_per_week": round(sum(false_pages.values()) / weeks, 3),
            "populations": {
                pop: {
                    "accounts": len(accts),
                    "implicated": (hit := sum(1 for a in accts if a in implicated)),
                    "implicated_pct": _pct(hit, len(accts)),
                    "false_pages": false_pages.get(pop, 0),
                    "false_pages_per_week": round(false_pages.get(pop, 0) / weeks, 3),
                }
                for pop, accts in sorted(benign_by_population.items())
            },
        },
    }


def _campaign_counts(campaigns: set[str], incidents_of: dict[str, int]) -> dict:
    """Campaigns, how many paged, and paging incidents per paged campaign (max and mean)."""
    paged = [incidents_of[c] for c in campaigns if incidents_of.get(c)]
    return {
        "campaigns": len(campaigns),
        "campaigns_paged": len(paged),
        "incidents_per_campaign_max": max(paged, default=None),
        "incidents_per_campaign_mean": round(sum(paged) / len(paged), 3) if paged else None,
    }


def _pct(num: int, den: int) -> float | None:
    return round(100 * num / den, 2) if den else None


def _scenario_precision(alerts: list[dict], labels: dict, scenario: str) -> float | None:
    """Attack share of the labelled accounts implicated by alerts that catch ``scenario``."""
    union: set[str] = set()
    for alert in alerts:
        accts = named(alert)
        if any(labels.get(a, ("", ""))[1] == scenario and labels[a][0] == "attack" for a in accts):
            union.update(a for a in accts if a in labels)
    attack = sum(1 for a in union if labels[a][0] == "attack")
    return _ratio(attack, len(union))


def _span_days(labels: dict, alerts: list[dict]) -> float:
    starts = [s for _, _, s in labels.values() if s is not None]
    starts += [epoch_ms(a["window_start"]) for a in alerts if a.get("window_start")]
    ends = [epoch_ms(a["detected_at"]) for a in alerts]
    starts += ends
    if not starts or not ends:
        return 1.0
    return max((max(ends) - min(starts)) / 86_400_000, MIN_SPAN_DAYS)


VERDICTS = ("true-positive", "false-positive")


def read_verdicts(path: str | Path) -> dict[str, str]:
    """``dedup_key`` -> verdict from JSON lines holding at least those two fields (what
    ``distillwatch incidents list --all --format json`` prints, or ``{dedup_key, verdict}`` lines);
    rows without a verdict are skipped, a later row wins. ``ValueError`` names the bad line."""
    verdicts: dict[str, str] = {}
    with open(path, "rb") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise ValueError(f"{path} line {n}: not a JSON object") from None
            if not isinstance(row, dict) or not isinstance(row.get("dedup_key"), str):
                raise ValueError(f"{path} line {n}: needs a dedup_key and a verdict")
            if row.get("verdict") in VERDICTS:
                verdicts[row["dedup_key"]] = row["verdict"]
            elif row.get("verdict"):
                raise ValueError(f"{path} line {n}: verdict must be {' or '.join(VERDICTS)}, not {row['verdict']!r}")
    return verdicts


def verdict_precision(alerts: list[dict], verdicts: dict[str, str]) -> dict:
    """Precision of the paging incidents by analysts' verdicts, by kind, by severity and overall."""
    paged: dict[str, tuple[str, str]] = {}  # dedup_key -> (kind, highest severity)
    for a in filter(is_page, alerts):
        kind, severity = paged.get(a["dedup_key"], (a["kind"], a["severity"]))
        paged[a["dedup_key"]] = kind, max(severity, a["severity"], key=SEVERITY_RANK.__getitem__)
    groups: dict[str, dict[str, int]] = defaultdict(lambda: {"true-positive": 0, "false-positive": 0, "unlabelled": 0})
    for key, (kind, severity) in paged.items():
        verdict = verdicts.get(key, "unlabelled")
        for group in (f"kind {kind}", f"severity {severity}", "ALL PAGING INCIDENTS"):
            groups[group][verdict] += 1
    rows = {name: {**c, "precision": _ratio(c["true-positive"], c["true-positive"] + c["false-positive"])}
            for name, c in sorted(groups.items(), key=lambda kv: kv[0].startswith("ALL"))}
    return {"incidents": len(paged), "labelled": sum(k in verdicts for k in paged),
            "verdicts_not_paging": sorted(set(verdicts) - set(paged)), "groups": rows}


def format_verdicts(report: dict) -> str:
    """The verdict report as a fixed-width table."""
    lines = [f"verdicts: {report['labelled']} of {report['incidents']} paging incidents labelled; "
             f"{len(report['verdicts_not_paging'])} verdicts on incidents that did not page here", "",
             f"{'incidents':<24}{'true-pos':>9}{'false-pos':>10}{'unlabelled':>11}{'precision':>10}"]
    lines += [f"{name:<24}{g['true-positive']:>9}{g['false-positive']:>10}{g['unlabelled']:>11}"
              f"{_fmt(g['precision']):>10}" for name, g in report["groups"].items()]
    return "\n".join(lines)


def format_table(report: dict) -> str:
    """The report as a fixed-width table for a terminal."""
    o = report["overall"]
    lines = [
        f"alerts: {report['alerts']['total']} total, {report['alerts']['considered']} at >= "
        f"{report['min_severity']}; world {report['world_days']} days ({report['world_days_source']})",
        "",
        f"{'scenario':<22}{'accounts':>9}{'detected':>9}{'recall':>8}{'precision':>10}"
        f"{'ttd p50':>9}{'ttd p90':>9}{'campaigns':>10}{'paged':>6}{'inc/camp':>9}",
    ]
    rows = list(report["scenarios"].items()) + [("ALL ATTACKS", {**o, "accounts": o["attack_accounts"]})]
    for name, s in rows:
        lines.append(
            f"{name:<22}{s['accounts']:>9}{s['detected']:>9}{_fmt(s['recall']):>8}{_fmt(s['precision']):>10}"
            f"{_fmt(s['ttd_median_min']):>9}{_fmt(s['ttd_p90_min']):>9}{s['campaigns']:>10}"
            f"{s['campaigns_paged']:>6}{_fmt(s['incidents_per_campaign_max']):>9}"
        )
    lines += [
        "",
        f"{'benign population':<22}{'accounts':>9}{'implicated':>11}{'%':>8}{'false pages':>12}{'/week':>8}",
    ]
    b = report["benign"]
    for name, p in list(b["populations"].items()) + [("ALL BENIGN", b)]:
        lines.append(
            f"{name:<22}{p['accounts']:>9}{p['implicated']:>11}{_fmt(p['implicated_pct']):>8}"
            f"{p['false_pages']:>12}{_fmt(p['false_pages_per_week']):>8}"
        )
    lines += [
        "",
        f"named accounts: {o['implicated']} ({o['implicated_attack']} attack, "
        f"{o['implicated_benign']} benign, {o['implicated_unlabelled']} unlabelled)",
        f"pages (error+critical, not resolve): {o['pages']}, {o['pages_per_day']} per simulated day, "
        f"in {o['incidents']} incidents ({o['incidents_per_day']} per day); "
        f"{o['active_campaigns']} active campaigns",
        f"pager notifications (an incident opens or escalates; updates do not re-page): {o['notifications']}, "
        f"{o['notifications_per_day']} per simulated day",
        "ttd in minutes of event time; inc/camp: most paging incidents of one paged campaign",
    ]
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
