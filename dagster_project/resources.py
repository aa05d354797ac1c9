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

from .settings import DBT_PROJECT_DIR, Settings, get_settings, token_salt


def dbt_executable() -> str:
    """The dbt of this interpreter's environment (works without an activated venv)."""
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"

DUCKDB_POOL = "duckdb"


def ex(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list:
    """Execute and fetch (DuckDB 2.0 refuses new work on a connection with an unfetched result)."""
    return con.execute(sql, params or []).fetchall()


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def enable_encrypted_writes(con: duckdb.DuckDBPyConnection, allow_mbedtls: bool) -> None:
    """DuckDB reads encrypted files with its built-in crypto, but writes them securely only with
    OpenSSL from the httpfs extension; without it, the built-in mbedtls only on explicit opt-in."""
    try:
        ex(con, "LOAD httpfs")
    except duckdb.Error as e:
        if not allow_mbedtls:
            raise RuntimeError(
                "writing an encrypted warehouse needs DuckDB's httpfs extension (OpenSSL), which is not "
                "installed: run `INSTALL httpfs` once with network access, or set "
                "CDP_WAREHOUSE_ALLOW_MBEDTLS=1 to use DuckDB's built-in mbedtls (which DuckDB does not "
                f"consider secure for writing). ({e})") from None
        ex(con, "SET force_mbedtls_unsafe = true")


def connect_duckdb(path: str | Path, *, read_only: bool = True, key: str | None = None,
                   allow_mbedtls: bool = False) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database file, encrypted (AES, `key`) or not, under the catalog name of its
    file stem (what dbt-duckdb calls it). A wrong key, or none for an encrypted file, raises."""
    path = Path(path)
    if not key:
        return duckdb.connect(str(path), read_only=read_only)
    con = duckdb.connect()
    try:
        if not read_only:
            enable_encrypted_writes(con, allow_mbedtls)
        ex(con, f"SET temp_directory = {_lit(str(path) + '.tmp')}")
        options = f"ENCRYPTION_KEY {_lit(key)}" + (", READ_ONLY" if read_only else "")
        ex(con, f'ATTACH {_lit(str(path))} AS "{path.stem}" ({options})')
        ex(con, f'USE "{path.stem}"')
    except Exception:
        con.close()
        raise
    return con


def connect_warehouse(path: str | Path | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """The warehouse (default: settings), with CDP_WAREHOUSE_KEY when it is set."""
    s = get_settings()
    return connect_duckdb(path or s.warehouse_path, read_only=read_only, key=s.warehouse_key,
                          allow_mbedtls=s.allow_mbedtls)


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
        con = connect_warehouse(self.path, read_only=read_only)  # encrypted when CDP_WAREHOUSE_KEY is set
        try:
            yield con
        finally:
            con.close()


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    token_salt(settings)  # exported for dbt (analyst tokens) and the ingest (erasure register)
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
