"""Benchmark: ingest throughput per delivery format, one large file each.

    .venv/bin/python bench/ingest_formats.py                 # 5M rows per file
    .venv/bin/python bench/ingest_formats.py --rows 1000000

Writes one file per format from the contract (values made by SQL from each column's type and
format, one row in 1,000 with a bad enum value) and times `ingest_entity_partition` on it:
GBK `|` CSV (policy_admin/policies), UTF-8 CSV (billing/payments), JSON lines
(app_events/events), JSON array (benefits/service_usage) and Parquet (claims/claims).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from dagster_project.ingest import ingest_entity_partition
from dagster_project.ingest.rules import ident, lit
from dagster_project.sources.contract import Column, Entity, load_contract

DAY = date(2024, 3, 1)
CASES = [("policy_admin", "policies"), ("billing", "payments"), ("app_events", "events"),
         ("benefits", "service_usage"), ("claims", "claims")]


def value_sql(column: Column, typed: bool) -> str:
    """SQL for a valid value of ``column`` in row ``i`` (text as delivered, or typed for Parquet)."""
    ts = "(TIMESTAMP '2024-01-01 09:00:00' + to_seconds(i % 31536000))"
    fmt = column.format
    kind = column.type
    if kind == "enum":
        values = "[" + ", ".join(lit(v) for v in column.values or ()) + "]"
        good = f"{values}[1 + i % {len(column.values or ())}]"
        return f"CASE WHEN i % 1000 = 999 THEN 'BAD' ELSE {good} END" if column.required else good
    if kind == "date":
        return f"CAST({ts} AS DATE)" if typed else f"strftime({ts}, {lit(fmt or '%Y-%m-%d')})"
    if kind == "timestamp":
        if typed:
            return f"CAST({ts} AS TIMESTAMPTZ)"
        return f"strftime({ts}, {lit('%Y-%m-%dT%H:%M:%S+08:00' if fmt in (None, 'iso8601') else fmt)})"
    if kind == "month":
        return f"strftime({ts}, {lit(fmt or '%Y-%m')})"
    if kind == "epoch_ms":
        return "CAST(1704067200000 + i AS VARCHAR)"
    if kind == "integer":
        lo, hi = int(column.min or 0), int(column.max or 100000)
        return f"CAST({lo} + i % {hi - lo + 1} AS {'BIGINT' if typed else 'VARCHAR'})"
    if kind == "decimal":
        return "(i % 100000) / 100.0" if typed else (
            "format('{:,.2f}', (i % 10000000) / 100.0)" if column.thousands_separator else "printf('%.2f', (i % 100000) / 100.0)")
    if kind == "boolean":
        return "i % 2 = 0" if typed else "CAST(i % 2 = 0 AS VARCHAR)"
    if kind == "json":
        return "json_object('k', i, 'tags', ['a', 'b'])"
    return f"'{column.name}_' || i || '_张'"


def write_file(entity: Entity, rows: int, folder: Path) -> Path:
    typed = entity.format == "parquet"
    select = ", ".join(f"{value_sql(c, typed)} AS {ident(c.name)}" for c in entity.columns)
    query = f"SELECT {select} FROM range({rows}) t(i)"
    target = folder / entity.file
    with duckdb.connect() as con:
        if entity.format == "csv":
            utf8 = folder / (entity.file + ".utf8") if entity.encoding != "utf-8" else target
            con.execute(f"COPY ({query}) TO {lit(str(utf8))} (HEADER, DELIMITER {lit(entity.delimiter)})").fetchall()
            if utf8 != target:
                with open(utf8, encoding="utf-8") as src, open(target, "w", encoding=entity.encoding) as dst:
                    while chunk := src.read(16 << 20):
                        dst.write(chunk)
                utf8.unlink()
        elif entity.format == "jsonl":
            con.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT json)").fetchall()
        elif entity.format == "json_array":
            con.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT json, ARRAY true)").fetchall()
        else:
            con.execute(f"COPY ({query}) TO {lit(str(target))} (FORMAT parquet)").fetchall()
    return target


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--keep", action="store_true")
    args = p.parse_args()
    contract = load_contract()
    work = Path(tempfile.mkdtemp(prefix="cdp-bench-ingest-"))
    try:
        for system, name in CASES:
            entity = contract.entity(system, name)
            folder = work / "landing" / system / DAY.isoformat()
            folder.mkdir(parents=True)
            t0 = time.perf_counter()
            path = write_file(entity, args.rows, folder)
            (folder / contract.success_marker).write_text("")
            written = time.perf_counter() - t0
            result = ingest_entity_partition(entity, DAY, work / "landing", work / "lake", contract=contract)
            print(
                f"{entity.format:10s} {entity.encoding:5s} {entity.qualified_name:26s} {result.rows_read:>10,} rows "
                f"{path.stat().st_size / 2**20:8,.0f} MiB  ingest {result.duration_s:6.1f} s "
                f"{result.rows_read / result.duration_s:>11,.0f} rows/s  quarantined {result.rows_quarantined:,} "
                f"(file written in {written:.1f} s)",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
