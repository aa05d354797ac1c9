"""Shared fixtures: a small simulated landing area built end to end through `cdp build`."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# A pytest-xdist worker runs with a bare __main__ (no __spec__, no __file__). pyspark.sql.connect,
# which Great Expectations imports, takes that for a doctest run and calls sys.exit(0) on import
# when the Spark Connect client's packages are missing: every GX check in the worker would die
# with SystemExit. Python sets sys.ps1 in an interactive session, which that test reads as "not a
# doctest run"; nothing else in the stack reads it (a worker process only).
_main = sys.modules.get("__main__")
if (os.environ.get("PYTEST_XDIST_WORKER") and _main is not None and getattr(_main, "__spec__", None) is None
        and not hasattr(_main, "__file__") and not hasattr(sys, "ps1")):
    sys.ps1 = ">>> "

BUILD_PERSONS = 1500
BUILD_DAYS = 6
BUILD_SEED = 7


@dataclass(frozen=True)
class BuiltPlatform:
    root: Path
    landing: Path
    truth: Path
    lake: Path
    warehouse: Path
    dagster_home: Path
    summary: object  # cli.BuildSummary of the first build

    def env(self) -> dict[str, str]:
        return {
            "CDP_DATA_DIR": str(self.root),
            "CDP_LANDING_DIR": str(self.landing),
            "CDP_TRUTH_DIR": str(self.truth),
            "CDP_LAKE_DIR": str(self.lake),
            "CDP_WAREHOUSE_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
        }


class _Env:
    """Set environment variables for a block and restore them afterwards."""

    def __init__(self, values: dict[str, str]):
        self.values = values
        self.saved: dict[str, str | None] = {}

    def __enter__(self):
        for k, v in self.values.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def platform_env():
    """Context manager factory: `with platform_env(built.env()): ...`."""
    return _Env


@pytest.fixture(scope="session")
def built_platform(tmp_path_factory) -> BuiltPlatform:
    """Simulate a small landing area and run `cdp build` on it once for the session."""
    from dagster_project.cli import ensure_dagster_home, run_build
    from dagster_project.simulator import simulate

    root = tmp_path_factory.mktemp("platform")
    built = BuiltPlatform(
        root=root,
        landing=root / "landing",
        truth=root / "truth",
        lake=root / "lake",
        warehouse=root / "warehouse" / "cdp.duckdb",
        dagster_home=root / "dagster_home",
        summary=None,
    )
    with _Env(built.env()):
        simulate(built.landing, built.truth, persons=BUILD_PERSONS, days=BUILD_DAYS, seed=BUILD_SEED)
        ensure_dagster_home()
        summary = run_build()
    return BuiltPlatform(**{**built.__dict__, "summary": summary})


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (it suffixes node ids with the group)
def pytest_collection_modifyitems(config, items):
    """Group tests for `pytest -n 2 --dist loadgroup` (what `bootstrap test` runs).

    Every test that uses the session's `built_platform` goes to one worker, so the platform is
    built once; every other test stays with its module, so a module-scoped fixture (a simulated
    warehouse, the Spark parity build) is built once too. Groups are whole units of work that
    the two workers share out (a test that already carries a group keeps it: test_churn puts each
    seed's warehouse in its own); without xdist the marks are inert.
    """
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue  # the test names its own group (a module's fixture split by parameter)
        fixtures = getattr(item, "fixturenames", ())
        group = "platform" if "built_platform" in fixtures else item.module.__name__
        item.add_marker(pytest.mark.xdist_group(group))
