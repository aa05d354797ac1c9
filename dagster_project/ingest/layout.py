"""Where ingest writes in the lake, and how a partition is replaced atomically.

Three zones share one layout (``settings.Settings`` documents the same paths)::

    <lake>/raw/<system>/<entity>/business_date=YYYY-MM-DD/part-0.parquet
    <lake>/quarantine/<system>/<entity>/business_date=YYYY-MM-DD/part-0.parquet
    <lake>/ingest_log/<system>/<entity>/business_date=YYYY-MM-DD/part-0.parquet

A load stages every file in a hidden temp directory beside its partition (same file system,
so the final ``os.replace`` is atomic) and publishes raw, then quarantine, then the log: a
reader never sees a half-written file, and a re-load replaces rather than appends.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

from dagster_project.sources.contract import Entity

RAW = "raw"
QUARANTINE = "quarantine"
INGEST_LOG = "ingest_log"
ZONES = (RAW, QUARANTINE, INGEST_LOG)  # also the publish order: the log is written last
PART_FILE = "part-0.parquet"
PARTITION_KEY = "business_date"
_TMP_PREFIX = ".tmp-"


def entity_dir(lake_dir: Path, zone: str, entity: Entity) -> Path:
    if zone not in ZONES:
        raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
    return Path(lake_dir) / zone / entity.system / entity.name


def partition_dir(lake_dir: Path, zone: str, entity: Entity, business_date: date) -> Path:
    return entity_dir(lake_dir, zone, entity) / f"{PARTITION_KEY}={business_date.isoformat()}"


def part_path(lake_dir: Path, zone: str, entity: Entity, business_date: date) -> Path:
    return partition_dir(lake_dir, zone, entity, business_date) / PART_FILE


def zone_glob(lake_dir: Path, zone: str, entity: Entity | None = None) -> str:
    """Glob of a zone's part files: one entity's, or every entity's when ``entity`` is None.

    Text-format entities may gain schema-drift columns on some dates only, so read a glob with
    ``union_by_name=true`` (DuckDB) / ``mergeSchema`` (Spark). The directory names carry the
    Hive key ``business_date``; the raw and quarantine files also hold it as ``_business_date``.
    """
    if entity is None:
        base = Path(lake_dir) / zone / "*" / "*"
        if zone not in ZONES:
            raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
    else:
        base = entity_dir(lake_dir, zone, entity)
    return str(base / f"{PARTITION_KEY}=*" / "part-*.parquet")


def raw_glob(lake_dir: Path, entity: Entity) -> str:
    """``<lake>/raw/<system>/<entity>/business_date=*/part-*.parquet``"""
    return zone_glob(lake_dir, RAW, entity)


def quarantine_glob(lake_dir: Path, entity: Entity | None = None) -> str:
    """Quarantine part files of one entity, or of all entities when ``entity`` is None."""
    return zone_glob(lake_dir, QUARANTINE, entity)


def ingest_log_glob(lake_dir: Path, entity: Entity | None = None) -> str:
    """Ingest-log part files of one entity, or of all entities when ``entity`` is None."""
    return zone_glob(lake_dir, INGEST_LOG, entity)


class PartitionStage:
    """Temp files for one load of one entity partition, published together by :meth:`commit`.

    Use as a context manager: whatever is not committed is removed on exit, so a failed load
    leaves the previous partition files exactly as they were.
    """

    def __init__(self, lake_dir: Path, entity: Entity, business_date: date):
        self.lake_dir = Path(lake_dir)
        self.entity = entity
        self.business_date = business_date
        self._token = uuid.uuid4().hex
        self._dirs: dict[str, Path] = {}

    def _tmp_dir(self, zone: str) -> Path:
        if zone not in self._dirs:
            d = entity_dir(self.lake_dir, zone, self.entity) / f"{_TMP_PREFIX}{self.business_date}-{self._token}"
            d.mkdir(parents=True, exist_ok=False)
            self._dirs[zone] = d
        return self._dirs[zone]

    def staged_file(self, zone: str) -> Path:
        """Where to write the zone's part file before it is published."""
        return self._tmp_dir(zone) / PART_FILE

    @property
    def work_dir(self) -> Path:
        """Scratch space on the lake's file system (transcoded files, DuckDB spill)."""
        d = self._tmp_dir(RAW) / "work"
        d.mkdir(exist_ok=True)
        return d

    def commit(self) -> None:
        for zone in ZONES:
            staged = self.staged_file(zone) if zone in self._dirs else None
            if staged is None or not staged.exists():
                raise RuntimeError(f"nothing staged for {zone} of {self.entity.qualified_name} {self.business_date}")
        for zone in ZONES:
            target = part_path(self.lake_dir, zone, self.entity, self.business_date)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.staged_file(zone), target)

    def cleanup(self) -> None:
        for d in self._dirs.values():
            shutil.rmtree(d, ignore_errors=True)
        self._dirs.clear()

    def __enter__(self) -> PartitionStage:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
