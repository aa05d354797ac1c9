"""Privacy assets of the daily build.

- `privacy_requests` (after identity resolution, before the core models): handles new privacy
  requests (privacy/requests.py): erasure (register + purge of lake and warehouse), access
  (export), restrict_marketing (suppression list); audit rows for every request and action.
- `analyst_warehouse` (after the analyst views): the analysts' DuckDB file
  `<warehouse dir>/analyst.duckdb`, holding only the tables of schema `analyst`, rebuilt by
  every run (encrypted with CDP_ANALYST_KEY when set).
"""


import json
import os
import time
from pathlib import Path

import dagster as dg

from ..resources import DUCKDB_POOL, Warehouse, connect_duckdb, enable_encrypted_writes, ex
from ..settings import get_settings, token_salt
from ..transform.dbt_assets import ensure_manifest
from .erasure import lit
from .requests import AUDIT_TABLES, process_requests

PRIVACY_GROUP = "privacy"
ANALYST_SCHEMA = "analyst"
PRIVACY_READS = ("staging.*", "identity.*", "core.*", "marts.*", "privacy.*")


@dg.multi_asset(
    name="privacy_requests",
    specs=[
        dg.AssetSpec(dg.AssetKey([PRIVACY_GROUP, t]), group_name=PRIVACY_GROUP,
                     deps=[dg.AssetKey(["identity", "customer_xref"]),
                           dg.AssetKey(["staging", "stg_call_center__privacy_requests"])],
                     description=f"privacy.{t}: see dagster_project/privacy/requests.py")
        for t in AUDIT_TABLES
    ],
    pool=DUCKDB_POOL,
)
def privacy_requests(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Erasure, access and restrict_marketing requests: purge, export, suppression list, audit."""
    settings = get_settings()
    start = time.perf_counter()
    # DuckDB: the warehouse itself. Spark: every table an erasure may have to purge (all schemas
    # but the analysts' views), loaded into a DuckDB workspace; what changed goes back to Spark.
    with warehouse.workspace(reads=PRIVACY_READS) as ws:
        con = ws.con
        out = process_requests(con, settings.lake_dir, settings.access_export_dir, token_salt(settings))
        counts = {t: int(con.execute(f"select count(*) from privacy.{t}").fetchall()[0][0]) for t in AUDIT_TABLES}
        ws.publish([f"privacy.{t}" for t in AUDIT_TABLES] + sorted(out.erased_tables))
    meta = {"requests_processed": dg.MetadataValue.json(out.processed), "lake_rows_erased": out.lake_rows,
            "warehouse_rows_erased": out.erased_rows, "exports_written": len(out.exports),
            "seconds": round(time.perf_counter() - start, 2)}
    context.log.info("privacy requests: %s", json.dumps({**out.processed, "lake_rows": out.lake_rows,
                                                          "warehouse_rows": out.erased_rows}))
    for t in AUDIT_TABLES:
        yield dg.MaterializeResult(asset_key=dg.AssetKey([PRIVACY_GROUP, t]),
                                   metadata={**meta, "dagster/row_count": counts[t]})


def _analyst_model_keys() -> list[dg.AssetKey]:
    manifest = json.loads(Path(ensure_manifest()).read_text(encoding="utf-8"))
    return sorted((dg.AssetKey([ANALYST_SCHEMA, n["name"]]) for n in manifest["nodes"].values()
                   if n.get("resource_type") == "model" and n.get("schema") == ANALYST_SCHEMA),
                  key=lambda k: k.path)


def publish_analyst_file(warehouse_path: Path, target: Path) -> dict[str, int]:
    """Copy every relation of schema `analyst` of the DuckDB warehouse into a fresh DuckDB file."""
    s = get_settings()
    # read-write (the asset holds the duckdb pool): a read-only database cannot attach a new file
    with connect_duckdb(warehouse_path, read_only=False, key=s.warehouse_key, allow_mbedtls=s.allow_mbedtls) as con:
        return write_analyst_file(con, target)


def write_analyst_file(con, target: Path) -> dict[str, int]:
    """Copy every relation of schema `analyst` of `con` into a fresh DuckDB file (written beside,
    then moved into place): the analysts' way in holds nothing else. Rows per table."""
    s = get_settings()
    tmp = target.with_name(target.name + ".building")
    for stale in (tmp, tmp.with_name(tmp.name + ".wal")):
        stale.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    key = os.environ.get("CDP_ANALYST_KEY") or None
    rows: dict[str, int] = {}
    if key:
        enable_encrypted_writes(con, s.allow_mbedtls)
        ex(con, f"ATTACH {lit(str(tmp))} AS analyst_file (ENCRYPTION_KEY {lit(key)})")
    else:
        ex(con, f"ATTACH {lit(str(tmp))} AS analyst_file")
    ex(con, f"create schema analyst_file.{ANALYST_SCHEMA}")
    names = [r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = ? and table_catalog = current_database() "
        "order by 1", [ANALYST_SCHEMA]).fetchall()]
    for name in names:
        ex(con, f'create table analyst_file.{ANALYST_SCHEMA}."{name}" as select * from {ANALYST_SCHEMA}."{name}"')
        rows[name] = int(con.execute(f'select count(*) from analyst_file.{ANALYST_SCHEMA}."{name}"').fetchall()[0][0])
    ex(con, "detach analyst_file")
    tmp.replace(target)
    return rows


@dg.asset(
    key=dg.AssetKey([ANALYST_SCHEMA, "analyst_duckdb_file"]),
    group_name=ANALYST_SCHEMA,
    deps=_analyst_model_keys(),
    pool=DUCKDB_POOL,
    description="The analysts' DuckDB file (<warehouse dir>/analyst.duckdb): only schema `analyst`, masked.",
)
def analyst_warehouse(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    target = get_settings().analyst_warehouse_path
    if warehouse.engine == "spark":  # the analyst views, evaluated by Spark, copied into the file
        with warehouse.workspace(reads=[f"{ANALYST_SCHEMA}.*"]) as ws:
            rows = write_analyst_file(ws.con, target)
    else:
        rows = publish_analyst_file(Path(warehouse.path), target)
    return dg.MaterializeResult(metadata={"path": str(target), "tables": dg.MetadataValue.json(rows),
                                          "encrypted": bool(os.environ.get("CDP_ANALYST_KEY"))})
