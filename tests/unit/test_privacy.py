"""Privacy units: the sensitivity check, masking macros' shapes, encryption at rest, erasure tokens."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import duckdb
import pytest

from dagster_project.privacy.classification import (
    UnclassifiedColumnsError,
    check_manifest,
    require_classification,
)
from dagster_project.privacy.erasure import ErasureSet, load_register, row_predicate, write_register
from dagster_project.resources import Warehouse, connect_duckdb, dbt_executable
from dagster_project.settings import DBT_PROJECT_DIR
from dagster_project.transform.dbt_assets import ensure_manifest


def _manifest_without_level(tmp_path: Path, model: str, column: str) -> Path:
    manifest = json.loads(Path(ensure_manifest()).read_text(encoding="utf-8"))
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == model)
    col = node["columns"][column]
    col["meta"] = {}
    col.setdefault("config", {})["meta"] = {}
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


def test_every_model_column_of_the_project_is_classified():
    problems = check_manifest(Path(ensure_manifest()))
    assert problems == [], "\n".join(map(str, problems))


def test_a_column_without_sensitivity_fails_naming_model_and_column(tmp_path):
    path = _manifest_without_level(tmp_path, "dim_customer", "mobile")
    with pytest.raises(UnclassifiedColumnsError) as err:
        require_classification(path)
    assert "model dim_customer column mobile has no meta.sensitivity" in str(err.value)


def test_an_unknown_level_fails(tmp_path):
    manifest = json.loads(Path(ensure_manifest()).read_text(encoding="utf-8"))
    node = next(n for n in manifest["nodes"].values() if n["resource_type"] == "model" and n["name"] == "customer_360")
    node["columns"]["customer_id"]["meta"] = {"sensitivity": "secret"}
    node["columns"]["customer_id"].setdefault("config", {})["meta"] = {}
    assert [str(p).split(" (")[0] for p in check_manifest(manifest)] == [
        "model customer_360 column customer_id has an unknown sensitivity 'secret'"]


def test_cdp_build_stops_before_anything_runs_on_an_unclassified_column(tmp_path, monkeypatch):
    """run_build parses, checks, and raises before ingesting or building anything."""
    from dagster_project import cli
    from dagster_project.transform import dbt_assets

    bad = _manifest_without_level(tmp_path, "stg_billing__payments", "payer_name")
    monkeypatch.setattr(dbt_assets, "parse_dbt_project", lambda target=None: bad)
    monkeypatch.setenv("CDP_DATA_DIR", str(tmp_path / "data"))
    with pytest.raises(UnclassifiedColumnsError, match="stg_billing__payments column payer_name"):
        cli.run_build(dates=[])
    assert not (tmp_path / "data" / "warehouse").exists()


# --------------------------------------------------------------------------- encryption at rest


def test_encrypted_warehouse_opens_only_with_its_key(tmp_path):
    path = tmp_path / "wh" / "cdp.duckdb"
    path.parent.mkdir()
    with connect_duckdb(path, read_only=False, key="right-key", allow_mbedtls=True) as con:
        con.execute("create schema core").fetchall()
        con.execute("create table core.t as select '11010119900307123X' as id_no").fetchall()
    assert b"11010119900307123X" not in path.read_bytes()
    with pytest.raises(duckdb.Error, match="(?i)wrong encryption key"):
        connect_duckdb(path, key="wrong-key")
    with pytest.raises(duckdb.Error, match="(?i)encrypted"):
        duckdb.connect(str(path), read_only=True)
    with connect_duckdb(path, key="right-key") as con:
        assert con.execute("select id_no from core.t").fetchall() == [("11010119900307123X",)]
        assert con.execute("select current_database()").fetchall() == [("cdp",)]


def test_writing_encrypted_without_openssl_needs_an_explicit_opt_in(tmp_path):
    con = duckdb.connect()
    try:
        con.execute("LOAD httpfs").fetchall()
        pytest.skip("httpfs is installed: encrypted writes use OpenSSL")
    except duckdb.Error:
        pass
    with pytest.raises(RuntimeError, match="httpfs"):
        connect_duckdb(tmp_path / "x.duckdb", read_only=False, key="k", allow_mbedtls=False)


def test_warehouse_resource_uses_the_key_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "cdp.duckdb"
    monkeypatch.setenv("CDP_WAREHOUSE_KEY", "env-key")
    monkeypatch.setenv("CDP_WAREHOUSE_ALLOW_MBEDTLS", "1")
    wh = Warehouse(path=str(path))
    with wh.connect(read_only=False) as con:
        con.execute("create table t as select 1 as x").fetchall()
    with wh.connect() as con:
        assert con.execute("select x from t").fetchall() == [(1,)]
    monkeypatch.setenv("CDP_WAREHOUSE_KEY", "another-key")
    with pytest.raises(duckdb.Error):
        with wh.connect():
            pass
    monkeypatch.delenv("CDP_WAREHOUSE_KEY")
    with pytest.raises(duckdb.Error):
        with wh.connect():
            pass


def test_dbt_writes_the_encrypted_warehouse_with_the_key(tmp_path):
    """The dbt profile's plugin attaches the file with CDP_WAREHOUSE_KEY (here: the raw views)."""
    path = tmp_path / "cdp.duckdb"
    env = {**os.environ, "CDP_WAREHOUSE_PATH": str(path), "CDP_LAKE_DIR": str(tmp_path / "lake"),
           "CDP_WAREHOUSE_KEY": "dbt-key", "CDP_WAREHOUSE_ALLOW_MBEDTLS": "1", "CDP_TOKEN_SALT": "s"}
    done = subprocess.run([dbt_executable(), "run-operation", "create_raw_views", "--project-dir", str(DBT_PROJECT_DIR),
                           "--profiles-dir", str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "dbt_target"),
                           "--log-path", str(tmp_path / "dbt_logs")], cwd=DBT_PROJECT_DIR, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(path), read_only=True)
    with connect_duckdb(path, key="dbt-key") as con:
        views = con.execute("select count(*) from information_schema.tables where table_schema = 'raw'").fetchall()
    assert views[0][0] >= 16


# --------------------------------------------------------------------------- erasure tokens


def test_register_matches_every_delivered_form_of_the_person_and_nothing_else(tmp_path):
    salt = "test-salt"
    es = ErasureSet(id_nos={"11010119900307123X"}, mobiles={"13800138000"}, keys={"policy_no=P1"})
    write_register(tmp_path, "PR1", es.tokens(salt))
    con = duckdb.connect()
    assert load_register(con, tmp_path) > 0
    con.execute("""create table t as select * from (values
        (1, '110101 19900307 123x', null, null, null),
        (2, '110101900307123', null, null, null),
        (3, null, '+86 138 0013 8000', null, null),
        (4, null, '０086-13800138000', null, null),
        (5, null, null, 'P1', null),
        (6, null, null, null, '王芳 138-0013-8000 老客户'),
        (7, '11010119900307124X', '13800138001', 'P2', '王芳 13800138001'),
        (8, null, null, null, null)
    ) v(n, holder_id_no, holder_mobile, policy_no, remark)""").fetchall()
    cols = {r[0]: r[1] for r in con.execute("describe t").fetchall()}
    pred = row_predicate(cols, salt)
    hit = [r[0] for r in con.execute(f"select n from t where {pred} order by n").fetchall()]
    assert hit == [1, 2, 3, 4, 5, 6]
    assert row_predicate({"amount": "DOUBLE", "status": "VARCHAR"}, salt) is None
