"""The wheel works outside the repo (issue 15): SQL, static files and calibration travel as package data,
the code installs as ``distillwatch.streams`` / ``distillwatch.models``, and the data directory is the
working directory's ``.run``, not a folder beside the code.

The slow test builds the wheel from a copy of the source, installs it (``--no-deps``) into a fresh venv
and runs the installed ``distillwatch`` from an empty directory. The venv finds the wheel's
dependencies in this interpreter's site-packages through a ``.pth`` line, so the test needs no
download (a full dependency install is over a gigabyte); it checks the wheel's own declared
requirements are met there and that every ``distillwatch`` module is loaded from the venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SOURCE_ONLY = shutil.ignore_patterns(".git", ".venv", ".run", "build", "*.egg-info", "__pycache__", ".*_cache",
                                     "data", "bench", "docs", "infra", "tests")


def test_every_folder_of_streams_and_models_is_packaged() -> None:
    """pyproject.toml lists packages by hand (the folders install under new names, which setuptools'
    discovery cannot do): a folder missing from the list would be missing from the wheel."""
    folders = {
        "distillwatch." + ".".join(d.relative_to(REPO).parts)
        for top in ("streams", "models")
        for d in [REPO / top, *(REPO / top).rglob("*")]
        if d.is_dir() and "__pycache__" not in d.parts and any(f.is_file() for f in d.iterdir())
    }
    assert set(PYPROJECT["tool"]["setuptools"]["packages"]) == folders


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.slow
def test_the_installed_wheel_replays_queries_and_applies_the_schema_from_another_directory(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DW_", "PYTHON", "KAFKA_"))}
    shutil.copytree(REPO, tmp_path / "src", ignore=SOURCE_ONLY)  # a clean tree: no stale build/ files
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"),
          str(tmp_path / "src")], tmp_path, env)
    (wheel,) = (tmp_path / "dist").glob("distillwatch-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python, dw = str(venv / "bin" / "python"), str(venv / "bin" / "distillwatch")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", str(wheel)],
         tmp_path, env)
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env)
                .strip())
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "_distillwatch_test_deps.pth").write_text("\n".join(sorted(dependencies)) + "\n", encoding="utf-8")

    work = tmp_path / "elsewhere"
    work.mkdir()
    found = orjson.loads(_run([python, "-c", _WHERE_FROM], work, env))
    assert found["outside"] == [] and found["unmet"] == [] and found["old_names"] == []
    assert _run([dw, "--version"], work, env).strip() == f"distillwatch {PYPROJECT['project']['version']}"

    applied = _run([dw, "schema", "apply"], work, env)  # the default data directory: ./.run
    migrations = sorted(p.stem for p in (REPO / "streams" / "clickhouse" / "migrations").glob("*.sql"))
    assert [line.split()[-1] for line in applied.splitlines() if line.startswith("applied")] == migrations
    dsn = f"chdb://{work / '.run' / 'clickhouse'}"
    assert (work / ".run" / "clickhouse").is_dir()

    _run([dw, "replay", str(REPO / "data" / "smoke.jsonl"), "--alerts", "alerts.jsonl", "--clickhouse", dsn],
         work, env)
    ours = tmp_path / "checkout-alerts.jsonl"
    _run([sys.executable, "-m", "distillwatch.streams.cli", "replay", str(REPO / "data" / "smoke.jsonl"),
          "--alerts", str(ours)], REPO, env)
    installed = (work / "alerts.jsonl").read_bytes()
    assert installed and installed == ours.read_bytes()  # the wheel detects exactly what the checkout does

    listed = _run([dw, "query", "--list"], work, env)
    saved = sorted(p.stem for p in (REPO / "streams" / "clickhouse" / "queries").glob("*.sql"))
    assert [name for name in saved if name in listed] == saved
    rows = _run([dw, "query", "SELECT uniqExact(account_id) FROM account_minute", "--format", "csv"], work, env)
    labelled = (REPO / "data" / "smoke-labels.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert int(rows.split()[-1]) == len(labelled) == 75  # every account's aggregates are in the fresh database


# run by the venv's python: where each distillwatch module came from, and what the wheel requires
_WHERE_FROM = """
import importlib, importlib.metadata as md, pkgutil, sys, sysconfig, orjson
from packaging.requirements import Requirement
site = sysconfig.get_paths()["purelib"]
names = []
for top in ("distillwatch.models", "distillwatch.streams"):
    pkg = importlib.import_module(top)
    names += [top] + [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".")]
outside = [n for n in names if not importlib.import_module(n).__file__.startswith(site)]
unmet = []
for text in md.requires("distillwatch"):
    req = Requirement(text)
    if req.marker is None or req.marker.evaluate({"extra": ""}):
        try:
            if md.version(req.name) not in req.specifier:
                unmet.append(text)
        except md.PackageNotFoundError:
            unmet.append(text)
old = sorted({m.split(".")[0] for m in sys.modules} & {"streams", "models"})
print(orjson.dumps({"outside": outside, "unmet": unmet, "old_names": old}).decode())
"""
