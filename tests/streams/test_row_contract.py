"""Every field the detection core emits lands in a ClickHouse column (the sink ignores unknown
fields for forward compatibility, so a renamed field would otherwise vanish silently)."""

from pathlib import Path

from distillwatch.models.engine import Engine
from distillwatch.streams.replay import replay

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo.jsonl.gz"
# fields of the alert object that the alerts table keeps as JSON text or derives
_ALERT_JSON = {"reasons", "evidence", "links", "accounts"}


def test_emitted_fields_have_columns(ch, tmp_path):
    engine = Engine(2, 2)
    seen: dict[str, set[str]] = {}

    def sink(rows):
        for table, row in rows:
            seen.setdefault(table, set()).update(row)

    with open(tmp_path / "alerts.jsonl", "wb") as out:
        replay([str(DEMO)], out, None, rows_sink=sink, engine=engine)
    assert {"account_minute", "cluster_minute", "cluster_member", "alert"} <= set(seen)
    tables = {"alert": "alerts"}
    for kind, fields in seen.items():
        columns = {r[0] for r in ch.client.query(
            "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String}",
            parameters={"t": tables.get(kind, kind)}).result_rows}
        missing = fields - columns - (_ALERT_JSON if kind == "alert" else set())
        assert not missing, (kind, missing)
