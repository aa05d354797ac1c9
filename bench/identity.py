"""Benchmark: identity resolution at 100k, 1M and 3M person records, with quality figures.

    .venv/bin/python bench/identity.py                                  # 100k, 1M, 3M records
    .venv/bin/python bench/identity.py --records 100000 --work /tmp/idbench

For each size the person records are produced the way the platform produces them: the simulator
writes a landing area (persons = records / 2.72, one business date: the initial load with every
system's history), the ingest loads the person-bearing entities, dbt builds the staging models
and identity.int_person_records. That preparation is not timed and is cached in --work.

Then the matching (identity/engine.py `resolve`: deterministic rules, blocking, training,
Fellegi-Sunter scoring, clustering, the mobile pass, stable ids) runs in a child process over
the warehouse,
so its wall time and peak resident memory are the matching's alone. The result is scored
against the simulator's truth (identity/evaluate.py `report`): pairwise precision and recall
and the duplicate rate over the resolvable records (the issue's figures) and over all records,
the unresolvable share, household merges by a shared mobile alone, party mixes, and the oracle
floor (evaluate.py `oracle_floor`: the duplicate rate left by linking, within each true person,
every two resolvable records that share an identifier value - what the records alone can join).
Targets (issue 3): 1M records < 60 s, 3M < 3 min, peak memory < 4 GB at 3M.

    .venv/bin/python bench/identity.py --engine spark --records 100000   # the same on local Spark

`--engine spark` runs the same engine with every query on a local Spark (spark/connection.py;
local[2], CDP_SPARK_DRIVER_MEMORY, default 2g): the records are read from Parquet (the export
from the warehouse is not timed), the peak memory is the Python driver's plus the JVM's, and the
xref is compared row for row with DuckDB's on the same records (`same_as_duckdb`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RECORDS_PER_PERSON = 2.72  # simulator, one business date (initial load)


def prepare(work: Path, records: int, seed: int) -> Path:
    """Simulate, ingest and build int_person_records once per size (cached)."""
    from tests.fixtures.identity import LeanWarehouse

    wh = LeanWarehouse(work / f"records_{records}")
    done = wh.root / "prepared.json"
    if done.exists():
        return wh.root
    started = time.perf_counter()
    wh.simulate(persons=int(records / RECORDS_PER_PERSON), days=1, seed=seed)
    wh.ingest()
    wh.build_person_records()
    done.write_text(json.dumps({"records": records, "seed": seed, "seconds": round(time.perf_counter() - started, 1)}))
    return wh.root


def _vmhwm_gb(pid: int | str = "self") -> float | None:
    """A process's resident high-water mark (VmHWM in /proc/<pid>/status), None if unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def peak_rss_gb() -> float:
    """Peak resident memory of this process image. Linux keeps ru_maxrss across exec, so a child
    started by a parent that had just simulated millions of records would report the parent's
    peak; VmHWM is the high-water mark of this image alone."""
    own = _vmhwm_gb()
    return own if own is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _descendants_peak_gb() -> float:
    """Peak resident memory of this process's child processes (the Spark JVM)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    mine = {os.getpid()}
    for _ in range(4):
        mine |= {pid for pid, ppid in parents.items() if ppid in mine}
    return sum(_vmhwm_gb(pid) or 0.0 for pid in mine - {os.getpid()})


def match_on_spark(root: Path) -> dict:
    """Child process: the same resolution with every query on local Spark; compared with DuckDB."""
    import tempfile

    import duckdb

    from dagster_project.identity.config import load_config
    from dagster_project.identity.engine import resolve
    from dagster_project.identity.evaluate import report
    from dagster_project.spark.connection import SparkConnection
    from dagster_project.spark.session import build_session

    tmp = Path(tempfile.mkdtemp(prefix="idbench-spark-", dir=str(root)))
    con = duckdb.connect()
    con.execute(f"attach '{root / 'warehouse' / 'cdp.duckdb'}' as wh (read_only)")
    con.execute(f"copy (select * from wh.identity.int_person_records) to '{tmp / 'records.parquet'}' (format parquet)")
    # the session the identity job runs with (the dbt profile's parameters), its state in `tmp`
    os.environ.update(CDP_SPARK_DIR=str(tmp / "spark"), CDP_SPARK_WAREHOUSE_DIR=str(tmp / "spark" / "warehouse"))
    os.environ.setdefault("CDP_SPARK_DRIVER_MEMORY", "2g")
    os.environ.setdefault("CDP_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m")
    spark = build_session()
    spark.sparkContext.setLogLevel("ERROR")
    spark.read.parquet(str(tmp / "records.parquet")).createOrReplaceTempView("person_records")
    scon = SparkConnection(spark, str(tmp / "scratch"))
    started = time.perf_counter()
    res = resolve(scon, "person_records", load_config())
    seconds = time.perf_counter() - started
    peak_gb = peak_rss_gb() + _descendants_peak_gb()
    spark.table("xref").write.parquet(str(tmp / "xref"))
    scon.close()
    spark.stop()
    con.execute(f"create table xref_spark as select * from read_parquet('{tmp / 'xref' / '*.parquet'}')")
    resolve(con, "wh.identity.int_person_records", load_config())  # DuckDB, for the comparison
    cols = "source_system, source_record_id, customer_id, match_rule, round(match_probability, 9), is_anchor"
    differ = con.execute(f"select count(*) from ((select {cols} from xref except all select {cols} from xref_spark) "
                         f"union all (select {cols} from xref_spark except all select {cols} from xref))").fetchall()[0][0]
    con.execute(f"create view truth as select * from '{root / 'truth' / 'person_records.parquet'}'")
    r = report(con, "xref_spark", "truth", "wh.identity.int_person_records")
    import shutil
    shutil.rmtree(tmp, ignore_errors=True)
    return {"records": res.records, "seconds": round(seconds, 1), "peak_gb": round(peak_gb, 2),
            "steps": {**res.seconds, "same_as_duckdb": differ == 0, "rows_differing": int(differ)},
            "report": r.as_dict()}


def match(root: Path) -> dict:
    """Child process: resolve the warehouse's person records; time, peak memory, quality."""
    import duckdb

    from dagster_project.identity.config import load_config
    from dagster_project.identity.engine import resolve
    from dagster_project.identity.evaluate import report

    con = duckdb.connect()
    con.execute(f"attach '{root / 'warehouse' / 'cdp.duckdb'}' as wh (read_only)")
    started = time.perf_counter()
    res = resolve(con, "wh.identity.int_person_records", load_config())
    seconds = time.perf_counter() - started
    peak_gb = peak_rss_gb()
    con.execute(f"create view truth as select * from '{root / 'truth' / 'person_records.parquet'}'")
    r = report(con, "xref", "truth", "wh.identity.int_person_records")
    return {"records": res.records, "seconds": round(seconds, 1), "peak_gb": round(peak_gb, 2),
            "steps": res.seconds, "report": r.as_dict()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--records", type=int, nargs="*", default=[100_000, 1_000_000, 3_000_000])
    p.add_argument("--work", default=str(ROOT / "data" / "bench" / "identity"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    p.add_argument("--match", default=None, help=argparse.SUPPRESS)  # child process entry
    args = p.parse_args()
    if args.match:
        run = match_on_spark if args.engine == "spark" else match
        print(json.dumps(run(Path(args.match))))
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    print(f"{'records':>10} {'seconds':>8} {'peak GB':>8} | resolvable: {'prec.':>6} {'recall':>6} {'dup':>6} | "
          f"all: {'prec.':>6} {'recall':>6} {'dup':>6} | {'unres.':>6} {'hh-mob':>6} {'mixes':>5} {'floor':>6}  steps (s)")
    for n in args.records:
        root = prepare(work, n, args.seed)
        out = subprocess.run([sys.executable, __file__, "--engine", args.engine, "--match", str(root)],
                             capture_output=True, text=True,
                             cwd=ROOT, env=os.environ.copy())
        if out.returncode != 0:
            raise SystemExit(out.stderr[-4000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        res, alls = r["report"]["resolvable"], r["report"]["all_records"]
        print(f"{r['records']:>10,} {r['seconds']:>8.1f} {r['peak_gb']:>8.2f} | "
              f"{'':>11} {res['precision']:>6.4f} {res['recall']:>6.4f} {res['duplicate_rate']:>6.4f} | "
              f"{'':>4} {alls['precision']:>6.4f} {alls['recall']:>6.4f} {alls['duplicate_rate']:>6.4f} | "
              f"{r['report']['unresolvable_share']:>6.4f} {res['household_mobile_merges']:>6} {res['party_mixes']:>5} "
              f"{r['report']['oracle_floor']:>6.4f}  "
              f"{json.dumps(r['steps'])}", flush=True)


if __name__ == "__main__":
    main()
