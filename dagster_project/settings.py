"""Paths and thresholds from the environment, typed. The one place that reads CDP_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    landing_dir: Path
    truth_dir: Path
    lake_dir: Path
    warehouse_path: Path
    dbt_target: str

    @property
    def raw_dir(self) -> Path:
        """Raw lake: <lake>/raw/<system>/<entity>/business_date=YYYY-MM-DD/part-0.parquet"""
        return self.lake_dir / "raw"

    @property
    def quarantine_dir(self) -> Path:
        """Quarantined rows: <lake>/quarantine/<system>/<entity>/business_date=.../part-0.parquet"""
        return self.lake_dir / "quarantine"

    @property
    def ingest_log_dir(self) -> Path:
        """One row per delivered file and load: <lake>/ingest_log/<system>/<entity>/business_date=.../part-0.parquet"""
        return self.lake_dir / "ingest_log"


def get_settings() -> Settings:
    """Read the settings now (tests and the CLI change the environment between calls)."""
    data_dir = _path("CDP_DATA_DIR", REPO_ROOT / "data")
    return Settings(
        data_dir=data_dir,
        landing_dir=_path("CDP_LANDING_DIR", data_dir / "landing"),
        truth_dir=_path("CDP_TRUTH_DIR", data_dir / "truth"),
        lake_dir=_path("CDP_LAKE_DIR", data_dir / "lake"),
        warehouse_path=_path("CDP_WAREHOUSE_PATH", data_dir / "warehouse" / "cdp.duckdb"),
        dbt_target=os.environ.get("CDP_DBT_TARGET", "duckdb"),
    )
