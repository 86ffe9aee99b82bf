"""Compile the pure ``models/`` modules ahead of time with mypyc (issue 16), in place.

The compiled extension modules land next to the ``.py`` files (``models/NAME.cpython-*.so``, one
shared library ``models/native__mypyc.*.so``); CPython's import system prefers an extension module
to the source of the same name, so nothing else changes. Without them (no C compiler, a failed
build, ``DW_PURE=1``) the same ``.py`` files run interpreted and give byte-identical output
(``tests/test_compiled.py``).

    python infra/build_compiled.py          # build (make does, through its build/mypyc/.built target)
    python infra/build_compiled.py --clean  # remove the compiled modules: pure Python again

mypyc compiles a module only if it type-checks. Modules it cannot take as they are stay interpreted:
``event`` (a msgspec Struct), ``links`` (named tuples with a class constant), ``config`` (dataclasses
read by ``dataclasses.fields``), ``cluster_state``/``campaign_state`` (``snapshot`` reads their
``__slots__``, which a native class lacks), ``snapshot`` and ``engine``. A build failure is one line on
stderr and exit status 0: the install goes on in pure Python.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "models"
WORK = ROOT / "build" / "mypyc"
GROUP = "distillwatch.models.native"

# The compiled modules (docs/performance.md, "Compiled core": what each needed, what it bought).
COMPILED = (
    "account_processor", "account_scoring", "account_state", "alerts", "cluster_scoring",
    "event_clock", "features", "jsonsafe", "minute_merge", "partitioning", "peers", "report",
    "riverstate", "sketches", "suppressions", "timespans", "cluster_processor", "reorder", "lockstep",
    "event_fields", "engine", "template_evidence",
)

# follow_imports=silent: the interpreted modules are read for their types only; call-arg: links.py's
# named tuples carry a KIND class constant that mypy counts as a field; river (typed, but it pulls in
# numpy and scipy: minutes of type checking) is read as untyped.
MYPY_CONFIG = """[mypy]
explicit_package_bases = True
ignore_missing_imports = True
follow_imports = silent
disable_error_code = call-arg

[mypy-river.*]
follow_imports = skip
"""


def compiled_files() -> list[Path]:
    """Every build product in ``models/`` (what ``--clean`` removes)."""
    return sorted(p for p in MODELS.iterdir() if p.suffix in (".so", ".pyd"))


def clean() -> None:
    for p in compiled_files():
        p.unlink()
    shutil.rmtree(WORK, ignore_errors=True)


def build(verbose: bool) -> None:
    """mypyc over the module list through a ``distillwatch/models`` link to ``models/``, so the
    modules get their installed names and ``build_ext --inplace`` writes through the link."""
    from mypyc.build import mypycify
    from setuptools import setup

    src = WORK / "src"
    (src / "distillwatch").mkdir(parents=True, exist_ok=True)
    link = src / "distillwatch" / "models"
    if not link.is_symlink():
        link.symlink_to(MODELS, target_is_directory=True)
    os.chdir(src)
    paths = [f"distillwatch/models/{name}.py" for name in COMPILED]
    config = WORK / "mypy.ini"
    config.write_text(MYPY_CONFIG)
    flags = ["--config-file", str(config), "--cache-dir", str(WORK / "mypy_cache")]
    os.environ["MYPYPATH"] = str(src)
    ext = mypycify([*flags, *paths], opt_level="3", group_name=GROUP, target_dir=str(WORK / "c"))
    setup(name="distillwatch-native", ext_modules=ext, script_args=[
        "build_ext", "--inplace", "--build-temp", str(WORK / "tmp"), *([] if verbose else ["--quiet"])])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clean", action="store_true", help="remove the compiled modules")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    clean()
    if args.clean:
        return 0
    if os.environ.get("DW_PURE") == "1":
        print("build_compiled: DW_PURE=1, models/ stays pure Python", file=sys.stderr)
        return 0
    t0 = time.monotonic()
    log = WORK / "build.log"
    WORK.mkdir(parents=True, exist_ok=True)
    out, err = os.dup(1), os.dup(2)
    with open(log, "w") as f:
        if not args.verbose:
            os.dup2(f.fileno(), 1)
            os.dup2(f.fileno(), 2)
        try:
            build(args.verbose)
            ok = True
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure means: stay pure
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            ok = False
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(out, 1)
            os.dup2(err, 2)
    if not ok:
        for p in compiled_files():  # a partial build must not shadow the sources
            p.unlink()
        print(f"build_compiled: mypyc build failed, models/ stays pure Python (log: {log})", file=sys.stderr)
        return 0
    print(f"build_compiled: {len(COMPILED)} models/ modules compiled with mypyc in {time.monotonic() - t0:.0f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
