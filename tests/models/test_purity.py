"""models/ is the pure detection core: the streaming pipeline and replay share it, so it must not
import I/O frameworks."""

import ast
from pathlib import Path

BANNED = ("faust", "kafka", "aiokafka", "clickhouse_connect", "chdb", "mode", "pickle", "distillwatch.streams")


def test_models_import_no_io_frameworks():
    offenders = []
    for path in Path(__file__).resolve().parents[2].joinpath("models").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if any(n == b or n.startswith(b + ".") for b in BANNED)]
    assert offenders == []
