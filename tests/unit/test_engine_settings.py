"""The engine switch (CDP_ENGINE) and the Spark session parameters the profile pins."""

from __future__ import annotations

import pytest

from dagster_project.settings import get_settings
from dagster_project.sources.contract import load_contract
from dagster_project.spark.session import spark_conf


def test_the_engine_selects_the_dbt_target_and_the_warehouse(monkeypatch, tmp_path):
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CDP_DBT_TARGET", raising=False)
    monkeypatch.delenv("CDP_SPARK_DIR", raising=False)
    monkeypatch.delenv("CDP_ENGINE", raising=False)
    s = get_settings()
    assert (s.engine, s.dbt_target) == ("duckdb", "duckdb")
    monkeypatch.setenv("CDP_ENGINE", "Spark")
    s = get_settings()
    assert (s.engine, s.dbt_target, s.spark_dir) == ("spark", "spark", tmp_path / "spark")
    monkeypatch.setenv("CDP_DBT_TARGET", "spark_thrift")
    assert get_settings().dbt_target == "spark_thrift"

    from dagster_project.resources import build_resources

    # build_resources exports locations for dbt: let monkeypatch restore them afterwards
    for var in ("CDP_LAKE_DIR", "CDP_WAREHOUSE_PATH", "CDP_SPARK_DIR", "CDP_TOKEN_SALT"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    assert build_resources(get_settings())["warehouse"].engine == "spark"


def test_an_unknown_engine_is_refused_by_name(monkeypatch):
    monkeypatch.setenv("CDP_ENGINE", "snowflake")
    with pytest.raises(ValueError, match="CDP_ENGINE='snowflake'.*duckdb, spark"):
        get_settings()


def test_spark_state_is_pinned_under_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CDP_SPARK_DIR", str(tmp_path / "spark"))
    for var in ("CDP_SPARK_MASTER", "CDP_SPARK_DRIVER_MEMORY", "CDP_SPARK_WAREHOUSE_DIR", "CDP_SPARK_METASTORE_URIS"):
        monkeypatch.delenv(var, raising=False)
    conf = spark_conf()
    spark_dir = str(tmp_path / "spark")
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == \
        f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
    assert conf["spark.sql.warehouse.dir"] == f"{spark_dir}/warehouse"
    assert f"-Dderby.system.home={spark_dir}/derby" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.local.dir"] == f"{spark_dir}/tmp"
    assert (conf["spark.master"], conf["spark.driver.memory"]) == ("local[2]", "1g")
    # what the portable SQL relies on
    assert conf["spark.sql.session.timeZone"] == load_contract().timezone
    assert conf["spark.sql.timestampType"] == "TIMESTAMP_NTZ"
    assert conf["spark.sql.sources.partitionOverwriteMode"] == "dynamic"
    assert conf["spark.sql.ansi.enabled"] == "false"
    assert conf["spark.ui.showConsoleProgress"] == "false"  # dagster-dbt reads dbt's stdout


def test_a_cluster_is_selected_by_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CDP_SPARK_DIR", str(tmp_path))
    monkeypatch.setenv("CDP_SPARK_MASTER", "yarn")
    monkeypatch.setenv("CDP_SPARK_METASTORE_URIS", "thrift://metastore:9083")
    monkeypatch.setenv("CDP_SPARK_WAREHOUSE_DIR", "s3a://cdp-warehouse/")
    conf = spark_conf()
    assert conf["spark.master"] == "yarn"
    assert conf["spark.hadoop.hive.metastore.uris"] == "thrift://metastore:9083"
    assert conf["spark.sql.warehouse.dir"] == "s3a://cdp-warehouse/"
