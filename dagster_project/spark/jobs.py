"""Spark jobs of the Python assets, one process each (see the package doc):

    python -m dagster_project.spark.jobs '{"export": ["identity.int_person_records", "staging.*"], "import": [], "dir": "/tmp/x"}'

- export: each named relation (or every table and view of `<schema>.*`) written as Parquet to
  `<dir>/export/<schema>.<name>/`; missing relations are reported, not an error. An item
  `{"relation": "schema.name", "where": "<Spark SQL predicate>"}` exports only the rows the
  predicate keeps (e.g. the latest as-of date of a table holding every date);
- import: each `{"table": "schema.name", "path": "<parquet file or folder>", "mode": "overwrite"}`
  replaces the table's rows (`insert overwrite`, columns cast to the table's types); a table
  that does not exist yet is created from the files as plain Parquet.

- identity: `{"scratch": "<folder or URI>"}` runs identity resolution with every query on this
  Spark session (identity/on_spark.py) and writes identity.customer_xref and
  identity.customer_id_history; its result is the asset's summary and check figures.

Imports run first, then identity, then exports. The result (relations exported with their row counts, missing
relations, rows imported) is printed as one JSON line prefixed `CDP_SPARK_RESULT `.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

RESULT_PREFIX = "CDP_SPARK_RESULT "


def _quote(name: str) -> str:
    return ".".join(f"`{part}`" for part in name.split("."))


def _relations(spark, pattern: str) -> list[str]:
    schema, _, name = pattern.partition(".")
    if name != "*":
        return [pattern]
    if not spark.catalog.databaseExists(schema):
        return []
    return sorted(f"{schema}.{t.name}" for t in spark.catalog.listTables(schema) if not t.isTemporary)


def run(spec: dict) -> dict:
    from .session import build_session

    start = time.perf_counter()
    spark = build_session()
    out: dict = {"exported": {}, "missing": [], "imported": {}}
    try:
        for item in spec.get("import", []):
            table, path, mode = item["table"], item["path"], item.get("mode", "overwrite")
            schema = table.split(".")[0]
            spark.sql(f"create database if not exists `{schema}`")
            source = spark.read.parquet(path)
            if spark.catalog.tableExists(table):
                target = spark.table(table).schema
                cols = ", ".join(
                    f"cast(`{f.name}` as {f.dataType.simpleString()}) as `{f.name}`" if f.name in source.columns
                    else f"cast(null as {f.dataType.simpleString()}) as `{f.name}`"
                    for f in target.fields)
                source.createOrReplaceTempView("__cdp_import")
                verb = "insert overwrite table" if mode == "overwrite" else "insert into table"
                spark.sql(f"{verb} {_quote(table)} select {cols} from __cdp_import")
            else:
                source.write.format("parquet").saveAsTable(table)
            out["imported"][table] = source.count()
        if "identity" in spec:
            from ..identity.on_spark import resolve_on_spark

            out["identity"] = resolve_on_spark(spark, spec["identity"]["scratch"])
        export_dir = Path(spec.get("dir", ".")) / "export"
        for item in spec.get("export", []):
            pattern, where = (item["relation"], item.get("where")) if isinstance(item, dict) else (item, None)
            names = _relations(spark, pattern)
            if not names:
                out["missing"].append(pattern)
            for name in names:
                if not spark.catalog.tableExists(name):
                    out["missing"].append(name)
                    continue
                df = spark.table(name) if not where else spark.sql(f"select * from {_quote(name)} where {where}")
                df.coalesce(1).write.mode("overwrite").parquet(str(export_dir / name))
                out["exported"][name] = spark.read.parquet(str(export_dir / name)).count()
    finally:
        spark.stop()
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    result = run(spec)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
