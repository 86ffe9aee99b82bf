"""The on-call page's exposure rules: loopback by default, a token anywhere else, secrets masked."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from distillwatch.streams.web.views import HEADERS, authorized, exposure_problem
from tests.streams.pipeline import REPO


@pytest.mark.parametrize(("bind", "token", "refused"), [
    ("127.0.0.1", "", False), ("localhost", "", False), ("::1", "", False),
    ("0.0.0.0", "", True), ("10.1.2.3", "", True), ("0.0.0.0", "s3cret", False),
])
def test_a_non_loopback_bind_needs_a_token(bind: str, token: str, refused: bool) -> None:
    assert (exposure_problem(bind, token) is not None) == refused


def test_the_worker_refuses_to_start_exposed_without_a_token() -> None:
    env = {**os.environ, "DW_WEB_BIND": "0.0.0.0", "DW_WEB_TOKEN": ""}
    done = subprocess.run([sys.executable, "-c", "import distillwatch.streams.web.views"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("DW_WEB_BIND=0.0.0.0 exposes the on-call page")
    assert "Traceback" not in done.stderr


def test_bearer_token_check() -> None:
    assert authorized("", "")  # no token configured: loopback only, open
    assert authorized("Bearer s3cret", "s3cret")
    assert not authorized("", "s3cret") and not authorized("Bearer s3cre", "s3cret")
    assert not authorized("s3cret", "s3cret")


def test_responses_forbid_sniffing_and_outside_resources() -> None:
    assert HEADERS["X-Content-Type-Options"] == "nosniff"
    assert HEADERS["Content-Security-Policy"].startswith("default-src 'self'")
