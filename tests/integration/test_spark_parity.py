"""Parity: the same landing area built on DuckDB and on Spark gives the same tables, row for row.

A small simulated landing area is ingested once into a raw lake (the engines' shared input).
Each engine then builds it the way the transform job does, leanly: dbt (seeds, staging,
identity.int_person_records), the identity_resolution asset (on Spark: every query of the
matching engine on Spark, in a Spark job, identity/on_spark.py), then dbt
for everything downstream of identity (core, marts, the tier snapshot). dbt's data tests are
left out here (the full `cdp build` on Spark runs them; see the README). Every table of schemas
staging, identity, core and marts is compared: same tables, same columns, and the same rows
after casting each value to a common form (numbers rounded to 6 decimals, times as text); a
difference fails with the rows that differ. Columns that hold the wall-clock time of the run
are left out (VOLATILE).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

PERSONS, DAYS, SEED = 300, 3, 11
SCHEMAS = ("staging", "identity", "core", "marts")
# table -> columns that record when the run happened (now()), not what the data says
VOLATILE = {
    "identity.customer_id_history": {"recorded_at"},
    "marts.customer_tier_history": {"dbt_valid_from", "dbt_valid_to", "dbt_updated_at", "dbt_scd_id"},
    "marts.customer_tags": {"computed_at"},
}
SAMPLE_ROWS = 5


def _ingest_all(landing: Path, lake: Path) -> int:
    """Load every entity of every complete delivery into the lake (the ingest's own code)."""
    from dagster_project.ingest.loader import ingest_entity_partition, scan_landing
    from dagster_project.sources.contract import load_contract

    contract = load_contract()
    by_system: dict[str, list] = {}
    for e in contract.entities:
        by_system.setdefault(e.system, []).append(e)
    files = 0
    for delivery in scan_landing(landing):
        if delivery.complete:
            for entity in by_system.get(delivery.system, []):
                ingest_entity_partition(entity, delivery.business_date, landing, lake, contract=contract)
                files += 1
    return files


def _dbt(root: Path, args: list[str]) -> None:
    from dagster_project.resources import dbt_executable
    from dagster_project.settings import DBT_PROJECT_DIR

    cmd = [dbt_executable(), "build", "--quiet", *args, "--exclude-resource-type", "test", "unit_test",
           "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
           "--target-path", str(root / "dbt_target"), "--log-path", str(root / "dbt_logs")]
    done = subprocess.run(cmd, cwd=DBT_PROJECT_DIR, env=os.environ.copy(), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"dbt build {args} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")


def _build(root: Path, lake: Path, engine: str, env: dict[str, str]) -> float:
    """dbt up to the person records, identity resolution (the Dagster asset), dbt downstream."""
    import dagster as dg

    from dagster_project.identity.assets import identity_resolution
    from dagster_project.resources import Warehouse
    from dagster_project.settings import export_engine_environment, get_settings

    values = {**env, "CDP_ENGINE": engine, "CDP_DATA_DIR": str(root), "CDP_LAKE_DIR": str(lake),
              "CDP_WAREHOUSE_PATH": str(root / "warehouse" / "cdp.duckdb")}
    saved = {k: os.environ.get(k) for k in [*values, "CDP_SPARK_DIR", "CDP_DBT_TARGET"]}
    os.environ.pop("CDP_SPARK_DIR", None)
    os.environ.pop("CDP_DBT_TARGET", None)
    os.environ.update(values)
    try:
        settings = get_settings()
        export_engine_environment(settings)
        start = time.perf_counter()
        _dbt(root, ["--exclude", "source:identity+"])
        result = dg.materialize([identity_resolution], raise_on_error=True,
                                resources={"warehouse": Warehouse(path=str(settings.warehouse_path), engine=engine)})
        # the matching ran on the engine itself (on Spark: every query in a Spark job)
        [xref] = [m for m in result.asset_materializations_for_node("identity_resolution")
                  if m.asset_key.path == ["identity", "customer_xref"]]
        assert xref.metadata["engine"].value == engine
        _dbt(root, ["--select", "source:identity+"])
        return time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _normalised(con: duckdb.DuckDBPyConnection, relation: str, columns: list[str]) -> str:
    """A select of `columns` in a form both engines' values compare equal in."""
    types = dict(con.execute(f"select column_name, column_type from (describe {relation})").fetchall())
    parts = []
    for c in columns:
        t = types[c].upper()
        q = f'"{c}"'
        if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
            parts.append(f"cast(round(cast({q} as double), 6) as varchar) as {q}")
        elif t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"):
            parts.append(f"cast(cast({q} as bigint) as varchar) as {q}")
        elif "TIME ZONE" in t:
            parts.append(f"cast(cast({q} as timestamptz) as varchar) as {q}")
        else:
            parts.append(f"cast({q} as varchar) as {q}")
    return f"select {', '.join(parts)} from {relation}"


def compare_tables(con: duckdb.DuckDBPyConnection, duck: str, spark: str, schemas=SCHEMAS) -> list[str]:
    """Differences between catalog `duck` and schemas loaded from Spark (main catalog `spark`)."""
    problems = []
    tables = con.execute(
        f"select table_schema || '.' || table_name from information_schema.tables "
        f"where table_catalog = '{duck}' and table_type = 'BASE TABLE' and table_schema in "
        f"({', '.join(repr(s) for s in schemas)}) order by 1").fetchall()
    for (table,) in tables:
        schema, name = table.split(".")
        left = f'"{duck}"."{schema}"."{name}"'
        right = f'"{spark}"."{schema}"."{name}"'
        exists = con.execute(
            f"select count(*) from information_schema.tables where table_catalog = '{spark}' "
            f"and table_schema = '{schema}' and table_name = '{name}'").fetchall()[0][0]
        if not exists:
            problems.append(f"{table}: missing on Spark")
            continue
        lcols = {r[0] for r in con.execute(f"select column_name from (describe {left})").fetchall()}
        rcols = {r[0] for r in con.execute(f"select column_name from (describe {right})").fetchall()}
        if lcols != rcols:
            problems.append(f"{table}: columns differ: only DuckDB {sorted(lcols - rcols)}, only Spark {sorted(rcols - lcols)}")
            continue
        cols = sorted(lcols - VOLATILE.get(table, set()))
        a, b = _normalised(con, left, cols), _normalised(con, right, cols)
        n_a = con.execute(f"select count(*) from {left}").fetchall()[0][0]
        n_b = con.execute(f"select count(*) from {right}").fetchall()[0][0]
        only_a = con.execute(f"select * from ({a} except all {b}) order by all limit {SAMPLE_ROWS}").fetchall()
        only_b = con.execute(f"select * from ({b} except all {a}) order by all limit {SAMPLE_ROWS}").fetchall()
        if n_a != n_b or only_a or only_b:
            lines = [f"{table}: {n_a} rows on DuckDB, {n_b} on Spark; columns {cols}"]
            lines += [f"    only on DuckDB: {r}" for r in only_a]
            lines += [f"    only on Spark:  {r}" for r in only_b]
            problems.append("\n".join(lines))
    return problems


def test_spark_build_matches_duckdb_row_for_row(tmp_path, capsys):
    from dagster_project.resources import load_exported
    from dagster_project.simulator import simulate
    from dagster_project.spark.client import run_spark_job

    landing, truth, lake = tmp_path / "landing", tmp_path / "truth", tmp_path / "lake"
    simulate(landing, truth, persons=PERSONS, days=DAYS, seed=SEED)
    assert _ingest_all(landing, lake) > 0
    # many short Spark queries: the C1 JIT alone is faster here; with its own code cache large
    # enough for the many classes Spark generates (C1 alone defaults to 48 MB, which they fill)
    env = {"CDP_LANDING_DIR": str(landing), "CDP_TRUTH_DIR": str(truth), "CDP_TOKEN_SALT": "parity-test-salt",
           "CDP_SPARK_JAVA_OPTIONS": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m"}
    roots = {}
    seconds = {}
    for engine in ("duckdb", "spark"):
        roots[engine] = tmp_path / engine
        shutil.copytree(lake, roots[engine] / "lake")
        seconds[engine] = _build(roots[engine], roots[engine] / "lake", engine, env)
    with capsys.disabled():
        print(f"\nfixture build ({PERSONS} persons x {DAYS} days): duckdb {seconds['duckdb']:.0f} s, "
              f"spark {seconds['spark']:.0f} s")

    # the Spark warehouse, exported by a Spark job, beside the DuckDB warehouse in one connection
    saved = {k: os.environ.get(k) for k in ("CDP_ENGINE", "CDP_SPARK_DIR", "CDP_DATA_DIR")}
    os.environ.update({"CDP_ENGINE": "spark", "CDP_SPARK_DIR": str(roots["spark"] / "spark"),
                       "CDP_DATA_DIR": str(roots["spark"])})
    try:
        out = run_spark_job({"export": [f"{s}.*" for s in SCHEMAS], "dir": str(tmp_path / "exchange")})
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    con = duckdb.connect()
    load_exported(con, tmp_path / "exchange" / "export", sorted(out["exported"]))
    con.execute(f"attach '{roots['duckdb'] / 'warehouse' / 'cdp.duckdb'}' as duck (read_only)")
    problems = compare_tables(con, "duck", "memory")
    compared = con.execute("select count(*) from information_schema.tables where table_catalog = 'duck' "
                           f"and table_type = 'BASE TABLE' and table_schema in {SCHEMAS}").fetchall()[0][0]
    assert compared > 40, "the comparison must cover every staging, identity, core and mart table"
    assert not problems, f"{len(problems)} of {compared} tables differ between DuckDB and Spark:\n" + "\n".join(problems)
    # identity resolution gave the same ids (checked above row for row) and ids are not trivial
    customers = con.execute("select count(distinct customer_id), count(*) from duck.identity.customer_xref").fetchall()[0]
    assert 0 < customers[0] < customers[1]


def test_the_comparison_reports_a_differing_row():
    con = duckdb.connect()
    con.execute("attach ':memory:' as a")
    con.execute("create schema a.marts")
    con.execute("create schema memory.marts")
    con.execute("create table a.marts.t as select * from (values (1, 1.0::double, 'x'), (2, 2.0, 'y')) v(k, v, s)")
    con.execute("create table memory.marts.t as select * from (values (1, 1.0000000001::decimal(18,10), 'x'), "
                "(2, 2.5, 'y')) v(k, v, s)")
    problems = compare_tables(con, "a", "memory", schemas=("marts",))
    assert len(problems) == 1 and "only on DuckDB: ('2', 'y', '2.0')" in problems[0]
    assert "only on Spark:  ('2', 'y', '2.5')" in problems[0]  # 1.0 vs 1.0000000001 is equal after rounding
