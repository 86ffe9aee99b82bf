"""distillwatch's detection core: pure Python, no Kafka, Faust or ClickHouse imports.

The streaming pipeline and offline replay run exactly this code, so their alerts are identical.

- ``config``: every tuning number (``AccountConfig``, ``ClusterConfig``, ``DetectorConfig``);
- ``event``: the request event contract; ``features``: the account feature vector (add a feature here);
- ``account_state`` / ``account_scoring`` / ``account_processor``: the account stage;
- ``links``: the messages from the account stage to the cluster stage;
- ``cluster_state`` / ``cluster_scoring`` / ``cluster_processor``: the cluster stage;
- ``report``: alerts, reasons and aggregate rows of both stages; ``alerts``: ids, severities, thresholds;
- ``engine``: both stages in one process (replay); ``snapshot``: processor state for changelogs;
- helpers: ``sketches``, ``peers``, ``partitioning``, ``riverstate``, ``jsonsafe``, ``timespans``.
"""

import os as _os
import sys as _sys
from importlib.machinery import EXTENSION_SUFFIXES, SOURCE_SUFFIXES, FileFinder, SourceFileLoader


def _stale(folder: str) -> bool:
    """Whether a source in ``folder`` is newer than mypyc's build of it: the compiled modules would run
    code that is no longer there (or rely on types another module no longer has)."""
    names = _os.listdir(folder)
    built = [_os.path.getmtime(_os.path.join(folder, n)) for n in names
             if n.startswith("native__mypyc.") and n.endswith(tuple(EXTENSION_SUFFIXES))]
    if not built:
        return False
    return any(_os.path.getmtime(_os.path.join(folder, n)) > built[0] for n in names if n.endswith(".py"))


# mypyc's compiled modules (infra/build_compiled.py) sit next to the .py files, and the import system
# prefers them. DW_PURE=1, or a source edited since the build, gives this folder a finder that knows only
# Python source: the interpreted modules run, with byte-identical output (tests/test_compiled.py).
for _folder in __path__:
    _pure = _os.environ.get("DW_PURE") == "1"
    if not _pure and _stale(_folder):
        print("distillwatch: models/ changed since its mypyc build; running it as pure Python "
              "(rebuild: python infra/build_compiled.py)", file=_sys.stderr)
        _pure = True
    if _pure:
        _sys.path_importer_cache[_folder] = FileFinder(_folder, (SourceFileLoader, SOURCE_SUFFIXES))
