"""Paths and thresholds from the environment, typed. The one place that reads CDP_* variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
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
    # the warehouse engine: `duckdb` (embedded default) or `spark` (dbt-spark; see README "Running on Spark")
    engine: str = "duckdb"
    # Spark's local state (embedded Derby metastore, warehouse dir, scratch), pinned under the data folder
    spark_dir: Path | None = None
    # encryption at rest (privacy/README): the key never leaves the environment, never printed
    warehouse_key: str | None = field(default=None, repr=False)
    # CDP_WAREHOUSE_ALLOW_MBEDTLS=1: write encrypted files with DuckDB's built-in mbedtls when the
    # httpfs extension (OpenSSL) cannot be loaded; DuckDB itself calls that mode not secure
    allow_mbedtls: bool = False

    @property
    def privacy_dir(self) -> Path:
        """Erasure register (hashed identifiers) beside the lake: <lake>/privacy/."""
        return self.lake_dir / "privacy"

    @property
    def access_export_dir(self) -> Path:
        """Access-request exports (restricted: they hold the person's data): <data>/privacy/exports/."""
        return self.data_dir / "privacy" / "exports"

    @property
    def analyst_warehouse_path(self) -> Path:
        """The analysts' DuckDB file: only the masked `analyst` schema, rebuilt by every run."""
        return self.warehouse_path.with_name("analyst.duckdb")

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


ENGINES = ("duckdb", "spark")


def engine_name() -> str:
    """CDP_ENGINE: the one switch between the embedded DuckDB warehouse and Spark."""
    engine = (os.environ.get("CDP_ENGINE") or "duckdb").strip().lower()
    if engine not in ENGINES:
        raise ValueError(f"CDP_ENGINE={engine!r} is not an engine of this platform: use one of {', '.join(ENGINES)}")
    return engine


def get_settings() -> Settings:
    """Read the settings now (tests and the CLI change the environment between calls)."""
    data_dir = _path("CDP_DATA_DIR", REPO_ROOT / "data")
    engine = engine_name()
    return Settings(
        data_dir=data_dir,
        landing_dir=_path("CDP_LANDING_DIR", data_dir / "landing"),
        truth_dir=_path("CDP_TRUTH_DIR", data_dir / "truth"),
        lake_dir=_path("CDP_LAKE_DIR", data_dir / "lake"),
        warehouse_path=_path("CDP_WAREHOUSE_PATH", data_dir / "warehouse" / "cdp.duckdb"),
        # the dbt target follows the engine (profiles.yml: `duckdb`, `spark`); CDP_DBT_TARGET picks
        # another output of the same engine (e.g. `spark_thrift` for a cluster's Thrift server)
        dbt_target=os.environ.get("CDP_DBT_TARGET") or engine,
        engine=engine,
        spark_dir=_path("CDP_SPARK_DIR", data_dir / "spark"),
        warehouse_key=os.environ.get("CDP_WAREHOUSE_KEY") or None,
        allow_mbedtls=os.environ.get("CDP_WAREHOUSE_ALLOW_MBEDTLS", "") in ("1", "true", "yes"),
    )


def export_engine_environment(settings: Settings) -> None:
    """Absolute locations for dbt (profiles.yml and dbt_project.yml read them with env_var): the
    lake both engines read, and Spark's metastore / warehouse dirs under the data folder."""
    os.environ["CDP_ENGINE"] = settings.engine
    os.environ["CDP_LAKE_DIR"] = str(settings.lake_dir)
    os.environ["CDP_WAREHOUSE_PATH"] = str(settings.warehouse_path)
    if settings.spark_dir is not None:
        os.environ["CDP_SPARK_DIR"] = str(settings.spark_dir)


TOKEN_SALT_VAR = "CDP_TOKEN_SALT"


def token_salt(settings: Settings | None = None) -> str:
    """The secret salt of analyst tokens and of the erasure register (CDP_TOKEN_SALT).

    Unset, a random salt is created once per installation in <data>/secrets/token_salt (mode
    600, outside the repo) and exported to the environment, so dbt (env_var) and the ingest
    see the same one. Tokens stay stable as long as the salt does: keep it with the warehouse.
    """
    value = os.environ.get(TOKEN_SALT_VAR)
    if value:
        return value
    path = (settings or get_settings()).data_dir / "secrets" / "token_salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32), encoding="utf-8")
        path.chmod(0o600)
    value = path.read_text(encoding="utf-8").strip()
    os.environ[TOKEN_SALT_VAR] = value
    return value
