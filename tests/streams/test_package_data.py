"""The SQL and the on-call page's static files ship inside the package, so an installed copy (not a
checkout) finds them: build the package into a temporary directory and read them from there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

READ_FROM_BUILD = """
import sys
sys.path.insert(0, sys.argv[1])
from distillwatch.streams.clickhouse.saved_queries import QUERIES, saved_queries
from distillwatch.streams.clickhouse.schema import migrations
from distillwatch.streams.web.views import STATIC
assert str(QUERIES).startswith(sys.argv[1]), QUERIES
assert str(STATIC).startswith(sys.argv[1]), STATIC
print(len(migrations()), len(saved_queries()), len((STATIC / "index.html").read_bytes()) > 0)
"""


def test_sql_and_static_files_are_package_data(tmp_path: Path) -> None:
    build = tmp_path / "lib"
    subprocess.run([sys.executable, "-c", "import setuptools; setuptools.setup()", "-q", "build_py",
                    "--build-lib", str(build)], cwd=REPO, check=True, capture_output=True)
    shipped = sorted(p.relative_to(build).as_posix() for p in build.rglob("*") if p.suffix in (".sql", ".js"))
    assert "distillwatch/streams/clickhouse/migrations/000_schema_migrations.sql" in shipped
    assert "distillwatch/streams/clickhouse/queries/top_accounts.sql" in shipped
    assert "distillwatch/streams/web/static/app.js" in shipped
    out = subprocess.run([sys.executable, "-c", READ_FROM_BUILD, str(build)], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.split()
    source = REPO / "streams" / "clickhouse"
    assert out == [str(len(list((source / "migrations").glob("*.sql")))),
                   str(len(list((source / "queries").glob("*.sql")))), "True"]
