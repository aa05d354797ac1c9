"""Resources: where the data lives (landing, lake, warehouse) and the dbt CLI.

DuckDB allows one writer per file: every asset that writes the warehouse runs in the
`duckdb` pool (limit 1, see dagster.yaml); readers open it read-only. On Spark (CDP_ENGINE=spark)
the same pool serialises the steps that open Spark's embedded Derby metastore (one JVM at a time).

`Warehouse.workspace()` is the engine adapter of the Python assets: a DuckDB connection on which
the warehouse tables they read are visible under their usual names (the warehouse itself on
DuckDB; on Spark, an in-memory DuckDB loaded from Spark through a Spark job), and `publish()`
writes the tables they produce back to the selected engine. (Identity resolution is the
exception: on Spark its queries run on Spark itself, identity/on_spark.py.)
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from .settings import DBT_PROJECT_DIR, Settings, export_engine_environment, get_settings, token_salt


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


class Workspace:
    """A DuckDB connection holding the warehouse tables an asset works on (see Warehouse.workspace)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, engine: str, tmp: Path | None, loaded: dict[str, int]):
        self.con = con
        self.engine = engine
        self.tmp = tmp
        self.loaded = loaded  # relation -> rows, as loaded from Spark (empty on DuckDB)
        self.published: dict[str, int] = {}

    def publish(self, tables: Sequence[str]) -> dict[str, int]:
        """Write these tables of the connection back to the warehouse (replacing their rows).
        On DuckDB they already are the warehouse's; on Spark they go through one Spark job."""
        if self.engine != "spark" or not tables:
            return {}
        from .spark.client import run_spark_job

        assert self.tmp is not None
        imports = []
        for table in tables:
            folder = self.tmp / "publish" / table
            folder.mkdir(parents=True, exist_ok=True)
            ex(self.con, f"copy (select * from {table}) to {_lit(str(folder / 'part-0.parquet'))} (format parquet)")
            imports.append({"table": table, "path": str(folder), "mode": "overwrite"})
        result = run_spark_job({"import": imports, "dir": str(self.tmp)}, log_path=self.tmp / "spark-publish.log")
        self.published = {k: int(v) for k, v in result["imported"].items()}
        return self.published


def load_exported(con: duckdb.DuckDBPyConnection, export_dir: Path, relations: Sequence[str]) -> dict[str, int]:
    """Create each exported relation (Parquet under export_dir/<schema.name>/) as a DuckDB table."""
    rows = {}
    for rel in relations:
        schema, name = rel.split(".", 1)
        ex(con, f'create schema if not exists "{schema}"')
        ex(con, f'create or replace table "{schema}"."{name}" as select * from read_parquet('
                f'{_lit(str(export_dir / rel / "*.parquet"))})')
        rows[rel] = int(con.execute(f'select count(*) from "{schema}"."{name}"').fetchall()[0][0])
    return rows


class Rows(NamedTuple):
    """A read of a workspace limited to the rows `where` (an SQL predicate) keeps."""

    relation: str
    where: str


class Warehouse(dg.ConfigurableResource):
    """The warehouse: a DuckDB file (CDP_ENGINE=duckdb) or Spark's tables (CDP_ENGINE=spark).
    Open read-only unless the asset runs in the `duckdb` pool."""

    path: str
    engine: str = "duckdb"

    @contextmanager
    def workspace(self, reads: Sequence[str | Rows] = (), read_only: bool = False) -> Iterator[Workspace]:
        """A DuckDB connection with the warehouse relations `reads` (`schema.name`, `schema.*`, or
        `Rows(relation, where)`: only the rows an SQL predicate keeps, where the asset needs no more).

        DuckDB: the warehouse file itself (every relation is there, whole; `reads` is informational).
        Spark: a fresh in-memory DuckDB into which one Spark job exported `reads`; call
        `publish([...])` to write tables back to Spark. Relations Spark does not have yet are
        simply absent, as they would be from a new DuckDB warehouse. A `Rows` predicate must read
        the same on both engines (it is Spark SQL; the asset's own queries still filter).
        """
        if self.engine != "spark":
            with self.connect(read_only=read_only) as con:
                yield Workspace(con, "duckdb", None, {})
            return
        from .spark.client import run_spark_job

        tmp = Path(tempfile.mkdtemp(prefix="cdp-spark-", dir=str(spark_scratch())))
        con = duckdb.connect()
        try:
            loaded: dict[str, int] = {}
            if reads:
                exports = [r if isinstance(r, str) else {"relation": r.relation, "where": r.where} for r in reads]
                result = run_spark_job({"export": exports, "dir": str(tmp)}, log_path=tmp / "spark-export.log")
                loaded = load_exported(con, tmp / "export", sorted(result["exported"]))
            yield Workspace(con, "spark", tmp, loaded)
        finally:
            con.close()
            shutil.rmtree(tmp, ignore_errors=True)

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


def spark_scratch() -> Path:
    s = get_settings()
    path = (s.spark_dir or s.data_dir / "spark") / "exchange"
    path.mkdir(parents=True, exist_ok=True)
    return path


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    token_salt(settings)  # exported for dbt (analyst tokens) and the ingest (erasure register)
    export_engine_environment(settings)  # absolute lake and Spark dirs for dbt and the Spark jobs
    return {
        "paths": CdpPaths(landing_dir=str(settings.landing_dir), lake_dir=str(settings.lake_dir)),
        "warehouse": Warehouse(path=str(settings.warehouse_path), engine=settings.engine),
        "dbt": DbtCliResource(
            project_dir=str(DBT_PROJECT_DIR),
            profiles_dir=str(DBT_PROJECT_DIR),
            target=settings.dbt_target,
            dbt_executable=dbt_executable(),
        ),
    }
