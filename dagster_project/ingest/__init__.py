"""Ingest: landing deliveries -> raw lake Parquet, quarantine and ingest log (no Dagster here).

    from dagster_project.ingest import ingest_entity_partition, scan_landing, raw_glob
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
