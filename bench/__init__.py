"""distillwatch's benchmark suite (issue 6): ``make bench`` runs :mod:`bench.run`.

Each benchmark is a module runnable as ``python -m bench.<name>`` that prints one JSON object on
its last stdout line; :mod:`bench.run` starts each in its own process (clean memory figures, one
crash cannot take the others down) and writes ``bench/results.json``.
"""
