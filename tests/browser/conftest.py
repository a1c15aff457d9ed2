"""Fixtures of the browser tests: one playground server and one Chromium per test module (see _chromium.py)."""

import pytest

from _chromium import chromium, serving


@pytest.fixture(scope="module")
def server():
    """(app, url) of the real playground server, for this module's tests."""
    with serving() as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium, for this module's tests."""
    with chromium() as b:
        yield b
