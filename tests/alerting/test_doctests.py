"""The examples in the alerting package's docstrings are run, River style."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("streams.alerting.severity", "streams.alerting.links", "streams.alerting.destination",
           "streams.alerting.destinations.webhook")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
