"""Ingest: landing deliveries -> raw lake Parquet, quarantine and ingest log (no Dagster here).

    from dagster_project.ingest import ingest_entity_partition, scan_landing, raw_glob

``ingest_entity_partition(entity, business_date, landing_dir, lake_dir)`` loads one entity file
of one delivery and replaces that partition in three zones (``layout.py``)::

    <lake>/raw/<system>/<entity>/business_date=YYYY-MM-DD/part-0.parquet
        contract columns in contract order (VARCHAR as delivered for csv/jsonl/json_array;
        delivered Arrow types for Parquet), then schema-drift columns, then the lineage columns
        _source_file, _business_date, _row_number, _loaded_at, _delivery_id
    <lake>/quarantine/...   one row per rejected record: system, entity, _source_file,
        _business_date, _row_number, rule, reason, column_name, raw_record, _loaded_at, _delivery_id
    <lake>/ingest_log/...   one row for the load (counts, rules, drift, file error, times)

Quarantine rules (``rules.RULES``, in precedence order): unreadable_file,
missing_required_column, malformed_row, required_missing, bad_type, bad_enum. For every file
rows read = rows loaded + rows quarantined. Read a zone with ``raw_glob`` / ``quarantine_glob``
/ ``ingest_log_glob`` and ``union_by_name=true``.
"""

from dagster_project.ingest.landing import Delivery, find_delivery, scan_landing
from dagster_project.ingest.layout import (
    INGEST_LOG,
    QUARANTINE,
    RAW,
    ingest_log_glob,
    part_path,
    partition_dir,
    quarantine_glob,
    raw_glob,
    zone_glob,
)
from dagster_project.ingest.loader import (
    ARRIVING,
    LOADED,
    NOT_DELIVERED,
    QUARANTINE_COLUMNS,
    LoadResult,
    ingest_entity_partition,
)
from dagster_project.ingest.rules import RULES

__all__ = [
    "ARRIVING",
    "INGEST_LOG",
    "LOADED",
    "NOT_DELIVERED",
    "QUARANTINE",
    "QUARANTINE_COLUMNS",
    "RAW",
    "RULES",
    "Delivery",
    "LoadResult",
    "find_delivery",
    "ingest_entity_partition",
    "ingest_log_glob",
    "part_path",
    "partition_dir",
    "quarantine_glob",
    "raw_glob",
    "scan_landing",
    "zone_glob",
]
