"""Raw-layer assets: one per contract entity, partitioned by business date.

Each asset loads one delivered file (`<landing>/<system>/<date>/<file>`) into the raw lake
through the contract-driven loader and reports what a data engineer looks at first: rows read,
loaded and quarantined, the rules broken, drift columns, arrival time. Three checks guard it:

- rows_reconcile (blocking): rows read = rows loaded + rows quarantined. Nothing is lost.
- contract_conformance: every required column present and the file readable. A broken file
  is quarantined whole and fails this check; the run and the other entities go on.
- quarantine_rate (warning): the quarantined share stays under the SLA in quality/sla.yaml.

Ingest writes Parquet only, never the DuckDB warehouse, so entities load in parallel.
"""


import json
from datetime import date

import dagster as dg

from ..quality.thresholds import ingest_thresholds
from ..resources import CdpPaths
from ..sources.contract import Entity, load_contract
from .loader import LoadResult, ingest_entity_partition
from .partitions import business_date_partitions

RAW_GROUP = "raw"


def raw_asset_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity.system, entity.name])


def _describe(entity: Entity, system_description: str) -> str:
    cols = ", ".join(c.name + ("" if c.required else "?") for c in entity.columns)
    return (
        f"{system_description}: `{entity.file}` ({entity.format}"
        f"{', ' + entity.encoding if entity.encoding != 'utf-8' else ''}) loaded as delivered into "
        f"`lake/raw/{entity.system}/{entity.name}/business_date=<date>/`. Key: {', '.join(entity.key)}. "
        f"Columns: {cols}."
    )


def _metadata(result: LoadResult) -> dict[str, object]:
    read = result.rows_read
    meta: dict[str, object] = {
        "status": result.status,
        "dagster/row_count": result.rows_loaded,
        "rows_read": read,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "rows_suppressed": result.rows_suppressed,
        "quarantine_rate": float(result.rows_quarantined / read) if read else 0.0,
        "quarantine_by_rule": dg.MetadataValue.json(dict(result.quarantine_by_rule or {})),
        "extra_columns": dg.MetadataValue.json(list(result.extra_columns or [])),
        "missing_required_columns": dg.MetadataValue.json(list(result.missing_required_columns or [])),
        "duration_s": float(result.duration_s or 0.0),
    }
    if result.source_file:
        meta["source_file"] = result.source_file
    if result.delivery_id:
        meta["delivery_id"] = result.delivery_id
    if result.arrived_at is not None:
        meta["arrived_at"] = result.arrived_at.isoformat()
    if result.file_error:
        meta["file_error"] = result.file_error
    return meta


def _checks(entity: Entity, result: LoadResult) -> list[dg.AssetCheckResult]:
    key = raw_asset_key(entity)
    delivered = result.status == "loaded"
    balance = result.rows_loaded + result.rows_quarantined + result.rows_suppressed
    max_rate = ingest_thresholds().max_quarantine_rate
    rate = result.rows_quarantined / result.rows_read if result.rows_read else 0.0
    broken = list(result.missing_required_columns or [])
    return [
        dg.AssetCheckResult(
            asset_key=key,
            check_name="rows_reconcile",
            passed=(not delivered) or balance == result.rows_read,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rows_read": result.rows_read, "rows_loaded_plus_quarantined": balance,
                      "rows_suppressed": result.rows_suppressed},
            description="rows read = rows loaded + rows quarantined + rows suppressed (erased persons)",
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="contract_conformance",
            passed=(not delivered) or (not broken and not result.file_error),
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={
                "missing_required_columns": dg.MetadataValue.json(broken),
                "file_error": result.file_error or "",
                "extra_columns": dg.MetadataValue.json(list(result.extra_columns or [])),
            },
            description="required columns present and the file readable",
        ),
        dg.AssetCheckResult(
            asset_key=key,
            check_name="quarantine_rate",
            passed=(not delivered) or rate <= max_rate,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"quarantine_rate": float(rate), "max_quarantine_rate": max_rate},
            description=f"quarantined share of rows <= {max_rate:.1%} (quality/sla.yaml)",
        ),
    ]


def build_raw_asset(entity: Entity, system_description: str) -> dg.AssetsDefinition:
    key = raw_asset_key(entity)

    @dg.asset(
        key=key,
        partitions_def=business_date_partitions,
        group_name=RAW_GROUP,
        kinds={"parquet"},
        description=_describe(entity, system_description),
        metadata={"system": entity.system, "entity": entity.name, "format": entity.format},
        tags={"system": entity.system},
        check_specs=[
            dg.AssetCheckSpec("rows_reconcile", asset=key, blocking=True,
                              description="rows read = rows loaded + rows quarantined"),
            dg.AssetCheckSpec("contract_conformance", asset=key,
                              description="required columns present and the file readable"),
            dg.AssetCheckSpec("quarantine_rate", asset=key,
                              description="quarantined share of rows within the SLA"),
        ],
    )
    def _raw(context: dg.AssetExecutionContext, paths: CdpPaths):
        business_date = date.fromisoformat(context.partition_key)
        result = ingest_entity_partition(entity, business_date, paths.landing, paths.lake)
        if result.status != "loaded":
            context.log.info(f"{entity.system}/{business_date}/{entity.file}: {result.status}, nothing loaded")
        elif result.rows_quarantined or result.missing_required_columns or result.file_error:
            context.log.warning(
                f"{result.source_file}: {result.rows_quarantined} of {result.rows_read} rows quarantined "
                f"{json.dumps(result.quarantine_by_rule, ensure_ascii=False)}"
                + (f"; missing required columns {result.missing_required_columns}" if result.missing_required_columns else "")
                + (f"; {result.file_error}" if result.file_error else "")
            )
        yield dg.MaterializeResult(metadata=_metadata(result))
        yield from _checks(entity, result)

    return _raw


def build_raw_assets() -> list[dg.AssetsDefinition]:
    contract = load_contract()
    return [build_raw_asset(e, contract.systems[e.system]) for e in contract.entities]
