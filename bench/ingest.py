"""Benchmark: simulate -> ingest -> staging, at given population sizes.

    .venv/bin/python bench/ingest.py                     # 100k and 1M persons, 30 days
    .venv/bin/python bench/ingest.py --persons 20000 --days 30

Each phase runs in its own process through the real entry points (`cdp simulate`,
`cdp build --no-transform`, `cdp build --skip-ingest`), so the figures are what a user gets:
wall time, rows per second and the phase's peak resident memory. Target: 1M persons' full
history ingested and staged in under 10 minutes on the 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
CDP = [sys.executable, "-m", "dagster_project.cli"]


def run_phase(name: str, cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one phase; return (wall seconds, peak RSS in MiB of the phase and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        print(out[-4000:])
        raise SystemExit(f"{name} failed")
    return wall, usage.ru_maxrss / 1024


def bench(persons: int, days: int, seed: int, keep: bool) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"cdp-bench-{persons}-"))
    env = dict(os.environ)
    env.update(
        CDP_DATA_DIR=str(work),
        CDP_LANDING_DIR=str(work / "landing"),
        CDP_LAKE_DIR=str(work / "lake"),
        CDP_WAREHOUSE_PATH=str(work / "warehouse" / "cdp.duckdb"),
        DAGSTER_HOME=str(work / "dagster_home"),
    )
    try:
        sim_s, sim_mb = run_phase(
            "simulate",
            [*CDP, "simulate", "--out", str(work / "landing"), "--truth", str(work / "truth"),
             "--persons", str(persons), "--days", str(days), "--seed", str(seed)],
            env,
        )
        ing_s, ing_mb = run_phase("ingest", [*CDP, "build", "--no-transform"], env)
        stg_s, stg_mb = run_phase("staging", [*CDP, "build", "--skip-ingest"], env)
        con = duckdb.connect()
        rows, files = con.execute(
            "select sum(rows_read), count(*) from read_parquet(?)",
            [str(work / "lake" / "ingest_log" / "*" / "*" / "*" / "*.parquet")],
        ).fetchone()
        landing_mb = sum(f.stat().st_size for f in (work / "landing").rglob("*") if f.is_file()) / 2**20
        return {
            "persons": persons, "days": days, "rows": int(rows), "files": int(files), "landing_mb": landing_mb,
            "simulate_s": sim_s, "simulate_peak_mb": sim_mb,
            "ingest_s": ing_s, "ingest_peak_mb": ing_mb, "ingest_rows_per_s": rows / ing_s,
            "staging_s": stg_s, "staging_peak_mb": stg_mb, "staging_rows_per_s": rows / stg_s,
            "ingest_plus_staging_s": ing_s + stg_s,
        }
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--persons", type=int, nargs="*", default=[100_000, 1_000_000])
    p.add_argument("--days", type=int, default=30)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the generated data folder")
    args = p.parse_args()
    for n in args.persons:
        r = bench(n, args.days, args.seed, args.keep)
        print(
            f"\n== {r['persons']:,} persons x {r['days']} days: {r['rows']:,} rows in {r['files']:,} files "
            f"({r['landing_mb']:,.0f} MiB delivered)\n"
            f"simulate  {r['simulate_s']:8.1f} s   peak {r['simulate_peak_mb']:8,.0f} MiB\n"
            f"ingest    {r['ingest_s']:8.1f} s   peak {r['ingest_peak_mb']:8,.0f} MiB   {r['ingest_rows_per_s']:12,.0f} rows/s\n"
            f"staging   {r['staging_s']:8.1f} s   peak {r['staging_peak_mb']:8,.0f} MiB   {r['staging_rows_per_s']:12,.0f} rows/s\n"
            f"ingest + staging {r['ingest_plus_staging_s']:.1f} s (target for 1M persons: < 600 s)",
            flush=True,
        )


if __name__ == "__main__":
    main()
