"""The docstring examples of the detection core, alerting and simulation, run by their installed names.

pytest's ``--doctest-modules`` would import ``streams/alerting/text.py`` by its path as
``streams.alerting.text``: a second copy of every module beside ``distillwatch.streams...`` (and of
the Faust app, were it reached). Importing by the installed name keeps one module per file.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

DOCTESTED = ("distillwatch.models", "distillwatch.streams.alerting", "distillwatch.streams.simulation")
REPO = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[str]:
    pkg = importlib.import_module(package)
    return [package] + [m.name for m in pkgutil.walk_packages(pkg.__path__, package + ".")]


@pytest.mark.parametrize("name", [m for p in DOCTESTED for m in _modules(p)])
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_every_module_is_imported_under_its_installed_name_only() -> None:
    """From the repo root (where ``streams/`` is on the path too), importing every module of both
    packages leaves no top-level ``streams`` or ``models`` module: nothing imports the old names."""
    code = (
        "import importlib, pkgutil, sys\n"
        "for top in ('distillwatch.models', 'distillwatch.streams'):\n"
        "    pkg = importlib.import_module(top)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, top + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'streams', 'models'}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
