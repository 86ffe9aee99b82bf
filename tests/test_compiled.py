"""The detection core compiled by mypyc (infra/build_compiled.py, built by `make test`) and the same
modules interpreted (DW_PURE=1) give byte-identical alerts and aggregate rows, and the build really
is compiled code."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from distillwatch.models import account_state

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo.jsonl.gz"  # 75,840 events, 24 h of 120 accounts and their attacks

_spec = importlib.util.spec_from_file_location("build_compiled", ROOT / "infra" / "build_compiled.py")
build_compiled = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_compiled)

# Replays a stream exactly as `distillwatch replay` does, writes the alerts and every aggregate row
# (as JSON lines), and prints where each compiled-or-not module was loaded from.
DRIVER = """
import sys, orjson, importlib
from distillwatch.streams.replay import replay
stream, alerts_path, rows_path, *modules = sys.argv[1:]
rows = []
with open(alerts_path, "wb") as alerts:
    summary = replay([stream], alerts, rows_sink=rows.extend)
with open(rows_path, "wb") as f:
    for table, row in rows:
        f.write(orjson.dumps([table, row], option=orjson.OPT_SORT_KEYS) + b"\\n")
print(summary.events)
for name in modules:
    print(importlib.import_module("distillwatch.models." + name).__file__)
"""


def _run(tmp_path: Path, label: str, pure: bool) -> tuple[bytes, bytes, list[str]]:
    env = {k: v for k, v in os.environ.items() if k != "DW_PURE"}
    if pure:
        env["DW_PURE"] = "1"
    alerts, rows = tmp_path / f"{label}-alerts.jsonl", tmp_path / f"{label}-rows.jsonl"
    done = subprocess.run([sys.executable, "-c", DRIVER, str(DEMO), str(alerts), str(rows),
                           *build_compiled.COMPILED], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "changed since its mypyc build" not in done.stderr, "stale build: run python infra/build_compiled.py"
    events, *files = done.stdout.split()
    assert int(events) == 75_840
    return alerts.read_bytes(), rows.read_bytes(), files


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compiled")
    return _run(tmp, "compiled", pure=False), _run(tmp, "pure", pure=True)


def test_the_build_is_compiled_and_dw_pure_runs_the_source(both_runs):
    (_, _, compiled), (_, _, pure) = both_runs
    assert len(compiled) == len(build_compiled.COMPILED) >= 15
    assert all(f.endswith(".py") for f in pure)
    if os.environ.get("DW_PURE") == "1":  # `DW_PURE=1 make test`: the build was skipped and removed
        assert all(f.endswith(".py") for f in compiled)
        return
    not_compiled = [f for f in compiled if not f.endswith(".so")]
    assert not not_compiled, f"not compiled (run `make test-fast` or python infra/build_compiled.py): {not_compiled}"


def test_compiled_and_pure_give_byte_identical_alerts_and_rows(both_runs):
    (c_alerts, c_rows, _), (p_alerts, p_rows, _) = both_runs
    n_alerts, n_rows = c_alerts.count(b"\n"), c_rows.count(b"\n")
    assert n_alerts >= 20 and n_rows >= 10_000  # a stream with attacks in it, not an empty comparison
    assert c_alerts == p_alerts, "compiled and interpreted alerts differ"
    assert hashlib.sha256(c_rows).hexdigest() == hashlib.sha256(p_rows).hexdigest(), "aggregate rows differ"


def test_account_state_declares_each_slot_with_its_type():
    """mypyc makes AccountState a native class from its annotations; serialisation follows the
    field groups: both must name the same fields, floats as float, ints as int, strings as str."""
    tree = ast.parse((ROOT / "models" / "account_state.py").read_text())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "AccountState")
    declared = {n.target.id: ast.unparse(n.annotation) for n in cls.body if isinstance(n, ast.AnnAssign)}
    expected = {**dict.fromkeys(account_state._FLOATS, "float"), **dict.fromkeys(account_state._INTS, "int"),
                **dict.fromkeys(account_state._STRS, "str"), "ip24_v4": "int", "ip24_text": "str"}
    del expected["ip24"]  # a property over ip24_v4 / ip24_text
    assert {k: declared[k] for k in expected if k in declared} == expected
    assert set(declared) == set(expected) | {"weights", "keys"}
