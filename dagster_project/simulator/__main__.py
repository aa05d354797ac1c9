"""`python -m dagster_project.simulator`: the simulator's command line (argparse lives here)."""

from __future__ import annotations

import argparse
import sys
from datetime import date


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dagster_project.simulator",
                                description="Write the simulated twelve-system landing area and its ground truth.")
    p.add_argument("--out", required=True, help="landing directory (<out>/<system>/<date>/...)")
    p.add_argument("--truth", required=True, help="ground-truth directory (never inside the landing)")
    p.add_argument("--persons", type=int, required=True, help="number of simulated persons")
    p.add_argument("--days", type=int, required=True, help="number of business dates")
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--start-date", type=date.fromisoformat, default=date(2025, 10, 1), help="YYYY-MM-DD")
    p.add_argument("--noise", choices=["default", "high"], default="default")
    return p


if __name__ == "__main__":
    from dagster_project.simulator import main

    raise SystemExit(main(sys.argv[1:]))
