"""The Spark session parameters, read from the dbt profile (dbt/profiles.yml, output `spark`).

The profile is the one place that says how Spark runs (master, driver memory, metastore and
warehouse dirs under CDP_SPARK_DIR, time zone, timestamp type); the Python side renders the
same `server_side_parameters` with the same environment, so both always agree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from ..settings import DBT_PROJECT_DIR

PROFILE = "insurance_cdp"
SESSION_OUTPUT = "spark"


def _render(value: Any) -> str:
    """Render a profile value's `{{ env_var(...) }}` expressions as dbt does (jinja, env_var only)."""
    import jinja2

    def env_var(name: str, default: str | None = None) -> str:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise KeyError(f"environment variable {name} is not set and has no default in profiles.yml")
        return default

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(str(value)).render(env_var=env_var)


def spark_conf(output: str = SESSION_OUTPUT, profiles_dir: Path = DBT_PROJECT_DIR) -> dict[str, str]:
    """The `server_side_parameters` of the profile's Spark session output, rendered. Relative
    paths (the profile's defaults) are resolved against the dbt project dir, where dbt runs."""
    from ..settings import get_settings

    # the profile's default ('../data/spark') is relative to dbt's working dir; pin the same
    # folder for a process started anywhere (settings: CDP_SPARK_DIR, default <data>/spark)
    os.environ.setdefault("CDP_SPARK_DIR", str(get_settings().spark_dir))
    doc = yaml.safe_load((profiles_dir / "profiles.yml").read_text(encoding="utf-8"))
    spec = doc[PROFILE]["outputs"][output]
    if spec.get("method") != "session":
        raise ValueError(f"profiles.yml output {output!r} is not a Spark `session` output")
    conf = {str(k): _render(v) for k, v in (spec.get("server_side_parameters") or {}).items()}
    conf["spark.sql.ansi.enabled"] = "false"  # dbt-spark forces it; the jobs must agree
    for key in ("spark.sql.warehouse.dir", "spark.local.dir"):
        if key in conf and conf[key] and "://" not in conf[key] and not conf[key].startswith("/"):
            conf[key] = str((profiles_dir / conf[key]).resolve())
    return conf


def build_session(conf: dict[str, str] | None = None):
    """A SparkSession with Hive support and the profile's parameters (call once per process)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in (conf or spark_conf()).items():
        if value != "":
            builder = builder.config(key, value)
    return builder.getOrCreate()
