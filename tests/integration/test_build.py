"""The platform end to end: simulated landing -> `cdp build` -> raw lake, warehouse, checks."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import date

import duckdb
import pytest

from dagster_project.sources.contract import load_contract

CONTRACT = load_contract()


def _warehouse(built):
    return duckdb.connect(str(built.warehouse), read_only=True)


def test_build_succeeds_and_every_entity_reconciles(built_platform):
    s = built_platform.summary
    assert s.failed_runs == []
    loaded = set(s.rows)
    assert loaded == {f"{e.system}/{e.name}" for e in CONTRACT.entities}
    for name, r in s.rows.items():
        assert r["rows_read"] == r["rows_loaded"] + r["rows_quarantined"], name
    # every raw asset's reconciliation check passed on every delivered date
    assert not [f for f in s.failed_checks if f.split(":")[1].startswith("rows_reconcile")]


def test_checks_ran_on_raw_and_dbt_layers(built_platform):
    checks = built_platform.summary.checks
    assert checks["raw"]["passed"] > 0
    assert checks["staging"]["passed"] > 0, "dbt tests should surface as asset checks on staging models"


def test_warehouse_raw_views_match_the_lake_and_staging_is_populated(built_platform):
    con = _warehouse(built_platform)
    try:
        for e in CONTRACT.entities:
            raw = con.execute(f'select count(*) from raw."{e.qualified_name}"').fetchone()[0]
            assert raw == built_platform.summary.rows[f"{e.system}/{e.name}"]["rows_loaded"], e.qualified_name
            stg = con.execute(f"select count(*) from staging.stg_{e.qualified_name}").fetchone()[0]
            assert 0 < stg <= raw, e.qualified_name
        q = con.execute("select count(*) from raw.quarantine").fetchone()[0]
        assert q == sum(r["rows_quarantined"] for r in built_platform.summary.rows.values())
    finally:
        con.close()


def test_quarantine_matches_the_defects_the_simulator_injected(built_platform):
    manifest = json.loads((built_platform.truth / "manifest.json").read_text())
    row_defects = {"malformed_row", "required_missing", "bad_enum", "bad_date", "bad_type"}
    expected = {(d["system"], d["entity"], d["business_date"], int(d["row_number"]))
                for d in manifest["defects"] if d["kind"] in row_defects}
    con = _warehouse(built_platform)
    try:
        got = {(s, e, str(d), int(r)) for s, e, d, r in con.execute(
            "select system, entity, _business_date, _row_number from raw.quarantine").fetchall()}
    finally:
        con.close()
    assert expected, "the default simulation injects row defects"
    assert got == expected


def test_rebuild_is_idempotent(built_platform, platform_env):
    from dagster_project.cli import run_build

    with platform_env(built_platform.env()):
        again = run_build()
    assert again.failed_runs == []
    assert {k: dict(v) for k, v in again.rows.items()} == {k: dict(v) for k, v in built_platform.summary.rows.items()}
    con = _warehouse(built_platform)
    try:
        for e in CONTRACT.entities:
            raw = con.execute(f'select count(*) from raw."{e.qualified_name}"').fetchone()[0]
            assert raw == built_platform.summary.rows[f"{e.system}/{e.name}"]["rows_loaded"]
    finally:
        con.close()


def test_sensor_sees_nothing_after_a_build_and_a_redelivery_after_it(built_platform, platform_env, tmp_path):
    from dagster_project.cli import run_build
    from dagster_project.ingest.sensors import deliveries_to_load
    from dagster_project.resources import CdpPaths

    paths = CdpPaths(landing_dir=str(built_platform.landing), lake_dir=str(built_platform.lake))
    assert deliveries_to_load(paths) == []

    # re-deliver the last billing folder with one payment fewer
    folder = sorted((built_platform.landing / "billing").iterdir())[-1]
    backup = tmp_path / "billing_backup"
    shutil.copytree(folder, backup)
    try:
        lines = (folder / "payments.csv").read_text(encoding="utf-8").splitlines(keepends=True)
        assert len(lines) > 2, "the last billing folder should carry payments"
        (folder / "payments.csv").write_text("".join(lines[:-1]), encoding="utf-8")
        os.utime(folder / "_SUCCESS", (time.time(), time.time()))
        todo = deliveries_to_load(paths)
        assert [(s, d.isoformat()) for s, d, _ in todo] == [("billing", folder.name)]

        with platform_env(built_platform.env()):
            result = run_build(dates=[folder.name], transform=False)
        assert result.rows["billing/payments"]["rows_read"] == len(lines) - 2
        assert deliveries_to_load(paths) == []
        con = duckdb.connect()
        n = con.execute(
            "select count(*) from read_parquet(?)",
            [str(built_platform.lake / "raw/billing/payments" / f"business_date={folder.name}" / "*.parquet")],
        ).fetchone()[0]
        assert n == result.rows["billing/payments"]["rows_loaded"], "the re-delivery replaced the date's rows"
    finally:
        shutil.rmtree(folder)
        shutil.copytree(backup, folder)
        with platform_env(built_platform.env()):
            run_build(dates=[folder.name], transform=False)


def test_definitions_load_every_asset_check_schedule_and_sensor():
    import dagster as dg

    from dagster_project.definitions import defs

    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    for e in CONTRACT.entities:
        assert f"raw/{e.system}/{e.name}" in keys
        assert f"staging/stg_{e.qualified_name}" in keys
    checks = {(k.asset_key.to_user_string(), k.name) for k in repo.asset_graph.asset_check_keys}
    assert ("raw/billing/payments", "rows_reconcile") in checks
    assert any(a.startswith("staging/") for a, _ in checks), "dbt tests are asset checks"
    assert {s.name for s in repo.schedule_defs} == {"daily_build_schedule", "churn_retraining_schedule"}
    assert {s.name for s in repo.sensor_defs} == {"landing_sensor"}
    assert {j.name for j in repo.get_all_jobs()} >= {"ingest", "transform", "daily_build"}


def test_daily_schedule_requests_yesterdays_business_date():
    import datetime as dt

    import dagster as dg

    from dagster_project.automation import daily_build_schedule

    with dg.instance_for_test() as instance:
        when = dt.datetime(2026, 3, 2, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=when)
        req = daily_build_schedule(ctx)
        assert req.partition_key == "2026-03-01"
        assert instance.has_dynamic_partition("business_date", "2026-03-01")
