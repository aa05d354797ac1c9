"""Resources: where the data lives (landing, lake, warehouse) and the dbt CLI.

DuckDB allows one writer per file: every asset that writes the warehouse runs in the
`duckdb` pool (limit 1, see dagster.yaml); readers open it read-only.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from .settings import DBT_PROJECT_DIR, Settings


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (works without an activated venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"

DUCKDB_POOL = "duckdb"


class CdpPaths(dg.ConfigurableResource):
    """The landing area a delivery arrives in and the lake the raw layer is written to."""

    landing_dir: str
    lake_dir: str

    @property
    def landing(self) -> Path:
        return Path(self.landing_dir)

    @property
    def lake(self) -> Path:
        return Path(self.lake_dir)


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse file. Open read-only unless the asset runs in the `duckdb` pool."""

    path: str

    @contextmanager
    def connect(self, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if read_only and not Path(self.path).exists():
            raise FileNotFoundError(f"warehouse {self.path} does not exist yet: run the daily build first")
        con = duckdb.connect(self.path, read_only=read_only)
        try:
            yield con
        finally:
            con.close()


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    return {
        "paths": CdpPaths(landing_dir=str(settings.landing_dir), lake_dir=str(settings.lake_dir)),
        "warehouse": Warehouse(path=str(settings.warehouse_path)),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            target=settings.dbt_target,
            dbt_executable=dbt_executable(),
        ),
    }
