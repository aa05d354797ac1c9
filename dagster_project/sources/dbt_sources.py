"""Generate the dbt sources YAML for the raw layer from the delivery contract.

    python -m dagster_project.sources.dbt_sources          # writes the two generated dbt files
    python -m dagster_project.sources.dbt_sources --check  # exits 1 when a committed file is stale

Writes ``dbt/models/staging/_raw__sources.yml`` (the dbt sources) and
``dbt/macros/raw/raw_contract_meta.sql`` (the same per-table meta as a macro, for contexts
without the dbt graph such as unit tests).

The contract (``contract.yaml``) is the one description of the deliveries; the dbt sources
are derived from it so that column lists never drift. Each table's ``meta`` carries what the
``create_raw_views()`` macro needs to build an empty, correctly typed view before any file
has arrived: the contract columns with their contract type *and* their physical type in the
raw Parquet (text formats land as VARCHAR, Parquet keeps its native types), plus lineage.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import yaml

from dagster_project.sources.contract import LINEAGE_COLUMNS, Column, Contract, Entity, load_contract
from .generated import sync_generated_files

DBT_DIR = Path(__file__).resolve().parents[2] / "dbt"
SOURCES_PATH = DBT_DIR / "models" / "staging" / "_raw__sources.yml"
# The same table meta as a macro: dbt unit tests have no `graph`, so the staging macros
# (contract_typed, current_version) read the contract from here rather than from source meta.
META_MACRO_PATH = DBT_DIR / "macros" / "raw" / "raw_contract_meta.sql"

# Physical (DuckDB) type of each contract type in a raw Parquet file written from a Parquet
# delivery. Text deliveries (csv, jsonl, json_array) land every contract column as VARCHAR.
PARQUET_RAW_TYPES = {
    "string": "varchar",
    "enum": "varchar",
    "date": "date",
    "timestamp": "timestamp with time zone",
    "epoch_ms": "bigint",
    "integer": "bigint",
    "decimal": "double",
    "boolean": "boolean",
    "json": "varchar",
    "month": "varchar",
}

LINEAGE_RAW_TYPES = {
    "_source_file": "varchar",
    "_business_date": "date",
    "_row_number": "bigint",
    "_loaded_at": "timestamp with time zone",
    "_delivery_id": "varchar",
}

# The ingest's side tables (one Parquet per system/entity/business date), exposed as views.
# Column names (and the log's types) come from the ingest, which writes them; here only the
# descriptions and the quarantine's types are added.
QUARANTINE_TYPES = {
    "system": "varchar", "entity": "varchar", "_source_file": "varchar", "_business_date": "date",
    "_row_number": "bigint", "rule": "varchar", "reason": "varchar", "column_name": "varchar",
    "raw_record": "varchar", "_loaded_at": "timestamp with time zone", "_delivery_id": "varchar",
}
SIDE_TABLE_DESCRIPTIONS = {
    "system": "source system",
    "entity": "entity (file)",
    "_source_file": LINEAGE_COLUMNS["_source_file"],
    "_business_date": LINEAGE_COLUMNS["_business_date"],
    "_row_number": "row number within the file; null when the whole file was rejected",
    "rule": "the contract rule broken (see dagster_project.ingest.rules.RULES)",
    "reason": "human-readable reason",
    "column_name": "the offending column, when the rule concerns one",
    "raw_record": "the record as delivered (JSON text)",
    "_loaded_at": LINEAGE_COLUMNS["_loaded_at"],
    "_delivery_id": LINEAGE_COLUMNS["_delivery_id"],
    "business_date": "business date of the delivery folder",
    "source_file": "landing-relative path of the file",
    "delivery_id": "fingerprint of the delivery folder (changes on re-delivery)",
    "status": "outcome of the load",
    "rows_read": "data rows read from the file",
    "rows_loaded": "rows written to the raw layer",
    "rows_quarantined": "rows written to quarantine",
    "rows_suppressed": "rows of persons erased on request, not loaded (erasure register)",
    "quarantine_by_rule": "JSON object: rule -> quarantined row count",
    "extra_columns": "schema-drift columns found in the file (JSON list)",
    "missing_required_columns": "required contract columns absent from the file (JSON list)",
    "missing_optional_columns": "optional contract columns absent from the file (JSON list)",
    "file_error": "error that rejected the whole file, if any",
    "arrived_at": "when the delivery folder was complete (_SUCCESS)",
    "loaded_at": "when the load finished",
    "duration_s": "load duration in seconds",
}


def side_table_columns() -> dict[str, list[tuple[str, str, str]]]:
    """(name, raw type, description) of `quarantine` and `ingest_log`, in the ingest's order."""
    from dagster_project.ingest.loader import INGEST_LOG_COLUMNS, QUARANTINE_COLUMNS

    def describe(name: str) -> str:
        if name not in SIDE_TABLE_DESCRIPTIONS:
            raise KeyError(f"ingest column {name!r} has no description in dbt_sources.SIDE_TABLE_DESCRIPTIONS")
        return SIDE_TABLE_DESCRIPTIONS[name]

    return {
        "quarantine": [(n, QUARANTINE_TYPES[n], describe(n)) for n in QUARANTINE_COLUMNS],
        "ingest_log": [(n, t.lower(), describe(n)) for n, t in INGEST_LOG_COLUMNS.items()],
    }


DAILY_FRESHNESS_WARN_H = 36


def raw_type(entity: Entity, column: Column) -> str:
    """The column's physical type in the raw Parquet layer."""
    if entity.format == "parquet":
        return PARQUET_RAW_TYPES[column.type]
    return "varchar"


def column_description(entity: Entity, column: Column) -> str:
    parts = [f"Contract type `{column.type}`"]
    if column.format:
        parts.append(f"format `{column.format}`")
    if column.values:
        parts.append("values " + ", ".join(f"`{v}`" for v in column.values))
    if column.min is not None or column.max is not None:
        parts.append(f"range {column.min}..{column.max}")
    if column.thousands_separator:
        parts.append("may hold thousands separators")
    if column.name in entity.key:
        parts.append("part of the key")
    if column.name == entity.op_column:
        parts.append("`D` marks a delete (tombstone)")
    text = "; ".join(parts) + ". "
    text += "Required (rows without a valid value are quarantined)." if column.required else "Optional (may be null or hold unvalidated garbage)."
    text += f" Raw type {raw_type(entity, column).upper()}"
    text += " holding the value as delivered." if entity.format != "parquet" else "."
    return text


def freshness(contract: Contract, entity: Entity) -> dict[str, Any]:
    late_h = 24 * (contract.max_lateness_days + 1)
    if entity.delivered_on_day_of_month:  # monthly delivery
        return {
            "warn_after": {"count": 24 * 33, "period": "hour"},
            "error_after": {"count": 24 * 31 + late_h, "period": "hour"},
        }
    return {
        "warn_after": {"count": DAILY_FRESHNESS_WARN_H, "period": "hour"},
        "error_after": {"count": late_h, "period": "hour"},
    }


def contract_column_meta(entity: Entity, column: Column) -> dict[str, Any]:
    """What the dbt macros need to type a raw column: contract type, parse details, raw type."""
    meta: dict[str, Any] = {"name": column.name, "type": column.type, "raw_type": raw_type(entity, column)}
    meta["required"] = column.required
    if column.format:
        meta["format"] = column.format
    if column.values:
        meta["values"] = list(column.values)
    if column.thousands_separator:
        meta["thousands_separator"] = True
    if column.min is not None:
        meta["min"] = column.min
    if column.max is not None:
        meta["max"] = column.max
    return meta


def _sensitivity(column: str) -> dict[str, str]:
    """`meta` of a raw column: its sensitivity level by the patterns of privacy/classification.yaml."""
    from ..privacy.classification import load_classification

    return {"sensitivity": load_classification().suggest(column)}


def entity_table(contract: Contract, entity: Entity) -> dict[str, Any]:
    contract_columns = [contract_column_meta(entity, c) for c in entity.columns]
    lineage = [{"name": n, "raw_type": t} for n, t in LINEAGE_RAW_TYPES.items()]
    columns = [{"name": c.name, "description": column_description(entity, c), "meta": _sensitivity(c.name)}
               for c in entity.columns]
    columns += [{"name": n, "description": f"Lineage: {d}.", "meta": _sensitivity(n)} for n, d in LINEAGE_COLUMNS.items()]
    system_desc = contract.systems.get(entity.system, entity.system)
    return {
        "name": entity.qualified_name,
        "description": (
            f"{system_desc}: `{entity.file}` ({entity.format}) as loaded by the ingest, one row per "
            f"delivered record, all business dates (re-deliveries replace their date's partition). "
            f"Key {', '.join(entity.key)}. Schema-drift columns, if any, follow the contract columns."
        ),
        "loaded_at_field": "_loaded_at",
        "config": {
            "freshness": freshness(contract, entity),
            "meta": {
                "system": entity.system,
                "entity": entity.name,
                "format": entity.format,
                "key": list(entity.key),
                "version_columns": list(entity.version_columns),
                "op_column": entity.op_column,
                "lake_path": f"raw/{entity.system}/{entity.name}",
                "contract_columns": contract_columns,
                "lineage_columns": lineage,
            },
        },
        "columns": columns,
    }


def side_table(name: str, lake_path: str, description: str, cols: list[tuple[str, str, str]]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "config": {
            "meta": {
                "lake_path": lake_path,
                "contract_columns": [{"name": n, "raw_type": t} for n, t, _ in cols],
                "lineage_columns": [],
            }
        },
        "columns": [{"name": n, "description": d, "meta": _sensitivity(n)} for n, _, d in cols],
    }


def build_sources(contract: Contract | None = None) -> dict[str, Any]:
    contract = contract or load_contract()
    tables = [entity_table(contract, e) for e in contract.entities]
    side = side_table_columns()
    tables.append(
        side_table(
            "quarantine",
            "quarantine/*/*",
            "Rows (or whole files) the ingest refused, with the contract rule broken and the reason.",
            side["quarantine"],
        )
    )
    tables.append(
        side_table(
            "ingest_log",
            "ingest_log/*/*",
            "One row per delivered file and load: counts, drift, errors and timings.",
            side["ingest_log"],
        )
    )
    return {
        "version": 2,
        "sources": [
            {
                "name": "raw",
                "description": (
                    "The raw lake (Parquet under `<lake>/raw`) exposed as DuckDB views in schema `raw` "
                    "by the on-run-start macro `create_raw_views()`. Generated from "
                    "dagster_project/sources/contract.yaml by `python -m dagster_project.sources.dbt_sources`; "
                    "do not edit by hand."
                ),
                "schema": "raw",
                "tables": tables,
            }
        ],
    }


HEADER = (
    "# GENERATED by `python -m dagster_project.sources.dbt_sources` from\n"
    "# dagster_project/sources/contract.yaml. Do not edit by hand: change the contract and regenerate.\n"
)


def render(contract: Contract | None = None) -> str:
    body = yaml.safe_dump(
        build_sources(contract), sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )
    return HEADER + body


def render_meta_macro(contract: Contract | None = None) -> str:
    tables = {t["name"]: t["config"]["meta"] for t in build_sources(contract)["sources"][0]["tables"]}
    payload = json.dumps(tables, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if "'" in payload or "{{" in payload or "{%" in payload or "{#" in payload:
        raise ValueError("contract meta cannot be embedded in a Jinja string literal")
    return (
        "{#- GENERATED by `python -m dagster_project.sources.dbt_sources` from\n"
        "    dagster_project/sources/contract.yaml. Do not edit by hand.\n"
        "    raw_contract_meta() -> {table: meta}: the `meta` of every table of source `raw`. -#}\n"
        "{% macro raw_contract_meta() -%}\n"
        f"    {{{{ return(fromjson('{payload}')) }}}}\n"
        "{%- endmacro %}\n"
    )


def outputs() -> dict[Path, str]:
    """Every generated file and its content."""
    return {SOURCES_PATH: render(), META_MACRO_PATH: render_meta_macro()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a generated file differs from the contract")
    args = parser.parse_args(argv)
    return sync_generated_files(outputs(), check=args.check, generator="python -m dagster_project.sources.dbt_sources")


if __name__ == "__main__":
    raise SystemExit(main())
