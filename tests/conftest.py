"""Shared fixtures: running the real command line in a subprocess, and the no-skip rule of CI."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# The same examples on every run: a red CI then always means a real regression, never an unlucky draw.
settings.register_profile("relunet", derandomize=True, deadline=None)
settings.load_profile("relunet")

SRC = Path(__file__).resolve().parents[1] / "src"


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("MPLBACKEND", "Agg")
    return env


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """One BLAS thread for the whole suite: the networks here are small, and on a busy 2-core machine
    contended BLAS threads make their products several times slower, not faster."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        yield


@pytest.fixture
def run_cli(tmp_path):
    """Run `python -m relunet ARGS` in tmp_path; returns the CompletedProcess (text mode)."""

    def run(*args, input=None, timeout=300, cwd=None):
        return subprocess.run([sys.executable, "-m", "relunet", *map(str, args)], cwd=cwd or tmp_path, env=_env(),
                              capture_output=True, text=True, input=input, timeout=timeout)

    return run


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    # CI installs every extra: a skipped test there means something is missing, so it fails the run.
    skipped = terminalreporter.stats.get("skipped", [])
    if os.environ.get("RELUNET_REQUIRE_ALL") and skipped:
        terminalreporter.write_line(f"relunet: {len(skipped)} test(s) skipped although every extra is installed",
                                    red=True)


def pytest_sessionfinish(session, exitstatus):
    if os.environ.get("RELUNET_REQUIRE_ALL"):
        rep = session.config.pluginmanager.get_plugin("terminalreporter")
        if rep is not None and rep.stats.get("skipped") and session.exitstatus == 0:
            session.exitstatus = 1
