"""Data quality end to end: GX suites and SLA rules as Dagster asset checks, and dq_sla_daily.

Good data: the session's simulated build (`built_platform`) passes every critical check.
Bad data: a copy of that platform receives two more business dates, each corrupted on purpose,
and `daily_build` (ingest -> checks -> dbt -> checks) runs for each:

- day +1, warnings only: a bank_core file of invalid ID numbers, a late call_center folder,
  an app_events volume collapse. The run goes on; staging and dq_sla_daily are built.
- day +2, critical: a policy_admin file without a required column, a billing duplicate key
  burst. The blocking checks fail with ERROR and the dbt step does not run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from dagster_project.quality.thresholds import sla_config
from dagster_project.sources.contract import load_contract
from tests.fixtures.landing import valid_row, write_delivery

CONTRACT = load_contract()
TZ = ZoneInfo(CONTRACT.timezone)
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
GX_RAW = {"gx_schema", "gx_required_not_null", "gx_vocabulary", "gx_key_unique"}


def _resident_id(seq: int, *, valid: bool) -> str:
    body = f"110101{19800101 + seq % 28:08d}{seq % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    if not valid:
        check = "10X98765432"[("10X98765432".index(check) + 3) % 11]
    return body + check


def _arrive(folder: Path, business_date: date, hours_after_end: float) -> None:
    """Set the folder's arrival (its _SUCCESS mtime) relative to the end of its business date."""
    end = datetime.combine(business_date + timedelta(days=1), time(0), tzinfo=TZ)
    ts = (end + timedelta(hours=hours_after_end)).timestamp()
    os.utime(folder / CONTRACT.success_marker, (ts, ts))


def _checks(result) -> dict[tuple[str, str], object]:
    return {("/".join(ev.asset_key.path), ev.check_name): ev for ev in result.get_asset_check_evaluations()}


def _materialized(result) -> set[str]:
    return {"/".join(ev.event_specific_data.materialization.asset_key.path)
            for ev in result.get_asset_materialization_events()}


# --------------------------------------------------------------------------- good data


def test_good_data_passes_every_critical_check(built_platform):
    s = built_platform.summary
    assert s.failed_runs == []
    for layer in ("raw", "staging"):
        assert s.checks[layer]["passed"] > 0
        assert s.checks[layer]["failed_error"] == 0, [f for f in s.failed_checks if "(ERROR)" in f]
    gx_failed = [f for f in s.failed_checks if ":gx_" in f]
    assert gx_failed == [], gx_failed


def _overdue_folders(truth: Path) -> set[tuple[str, str]]:
    """(system, date) of the simulated folders whose final arrival came > 24 h after the date's end
    (late folders, and re-deliveries whose corrected content arrived that late)."""
    manifest = json.loads((truth / "manifest.json").read_text())
    out = set()
    for f in manifest["folders"]:
        end = datetime.combine(date.fromisoformat(f["business_date"]) + timedelta(days=1), time(0), tzinfo=TZ)
        if datetime.fromisoformat(f["arrival_at"]) - end > timedelta(hours=24):
            out.add((f["system"], f["business_date"]))
    return out


def test_late_folders_of_the_simulation_fail_freshness_as_warnings(built_platform):
    overdue = _overdue_folders(built_platform.truth)
    assert overdue, "the default simulation delivers some folders late"
    failed = [f for f in built_platform.summary.failed_checks if ":sla_delivery_freshness" in f]
    assert failed and all("(WARN)" in f for f in failed)
    flagged = {(f.split("/")[1], re.search(r"ingest (\d{4}-\d{2}-\d{2})", f).group(1)) for f in failed}
    assert flagged == overdue


def test_dq_sla_daily_has_a_row_per_source_and_delivered_day(built_platform):
    con = duckdb.connect(str(built_platform.warehouse), read_only=True)
    try:
        delivered = set(con.execute(
            "select distinct system, business_date from raw.ingest_log where status = 'loaded'").fetchall())
        rows = con.execute(
            "select source_system, business_date, delivered, passes_freshness, delivery_lag_hours, "
            "duplicate_rate_before, duplicate_rate_after from marts.dq_sla_daily").fetchall()
        cols = {r[0] for r in con.execute("select column_name from information_schema.columns "
                                          "where table_schema = 'marts' and table_name = 'dq_sla_daily'").fetchall()}
    finally:
        con.close()
    assert {(r[0], r[1]) for r in rows if r[2] and r[0] != "(all)"} == delivered
    assert {r[1] for r in rows if r[0] == "(all)"} == {d for _, d in delivered}
    overdue = _overdue_folders(built_platform.truth)
    assert {(r[0], r[1].isoformat()) for r in rows if r[2] and r[0] != "(all)" and r[3] is False} == overdue
    assert all(r[4] > 24 for r in rows if (r[0], r[1].isoformat()) in overdue)
    all_rows = [r for r in rows if r[0] == "(all)"]
    assert all(0 <= r[5] < 1 for r in all_rows)  # duplicate rate before resolution, all sources
    # every column is documented in the model's YAML
    yml = (Path(__file__).resolve().parents[2] / "dbt/models/marts/quality/_quality__models.yml").read_text()
    assert all(f"- name: {c}\n" in yml for c in cols), sorted(c for c in cols if f"- name: {c}\n" not in yml)


def test_data_docs_are_built_and_linked_from_the_checks(built_platform, platform_env):
    index = built_platform.root / "quality" / "data_docs" / "index.html"
    assert index.exists()
    html = index.read_text()
    assert "raw.policy_admin__policies" in html and "staging.stg_policy_admin__policies" in html
    with platform_env(built_platform.env()), dg.DagsterInstance.get() as instance:
        key = dg.AssetCheckKey(dg.AssetKey(["staging", "stg_claims__claims"]), "gx_money_non_negative")
        ev = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])[key]
        meta = ev.event.dagster_event.event_specific_data.metadata
    assert Path(meta["data_docs"].value).exists()
    assert meta["success_percent"].value == 100.0
    assert meta["unexpected_count"].value == 0


# --------------------------------------------------------------------------- corrupted deliveries


@pytest.fixture(scope="module")
def corrupted(built_platform, tmp_path_factory):
    """A copy of the built platform and the two business dates after its last one."""
    root = tmp_path_factory.mktemp("corrupted")
    for src in (built_platform.landing, built_platform.lake, built_platform.warehouse.parent):
        shutil.copytree(src, root / src.name)
    last = max(date.fromisoformat(p.name) for p in (root / "landing").glob("*/*") if p.is_dir())
    return root, last + timedelta(days=1), last + timedelta(days=2)


def _env(root: Path) -> dict[str, str]:
    return {
        "CDP_DATA_DIR": str(root),
        "CDP_LANDING_DIR": str(root / "landing"),
        "CDP_LAKE_DIR": str(root / "lake"),
        "CDP_WAREHOUSE_PATH": str(root / "warehouse" / "cdp.duckdb"),
    }


def _daily_build(root: Path, business_date: date, platform_env):
    from dagster_project.definitions import build_definitions

    with platform_env(_env(root)):
        defs = build_definitions()
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions("business_date", [business_date.isoformat()])
        result = defs.resolve_job_def("daily_build").execute_in_process(
            instance=instance, partition_key=business_date.isoformat(), run_config=QUIET, raise_on_error=False)
        return result, defs.resolve_asset_graph()


def _reads_raw(graph, key: dg.AssetKey) -> bool:
    """Is `key` downstream of a raw asset?"""
    seen, todo = set(), [key]
    while todo:
        for parent in graph.get(todo.pop()).parent_keys:
            if parent.path[0] == "raw":
                return True
            if parent not in seen and graph.has(parent):
                seen.add(parent)
                todo.append(parent)
    return False


@pytest.fixture(scope="module")
def warning_day(corrupted):
    """Day +1: invalid IDs, a late folder, a volume collapse; `daily_build` run for it."""
    from tests.conftest import _Env

    root, day, _ = corrupted
    landing = root / "landing"
    customers = CONTRACT.entity("bank_core", "customers")
    rows = []
    for i in range(150):
        row = valid_row(customers, i)
        row.update(id_type="01", id_no=_resident_id(i, valid=False), mobile=f"1390000{i:04d}", cif_no=f"CIFQ{i:05d}")
        rows.append(row)
    _arrive(write_delivery(landing, "bank_core", day, {"customers": rows}), day, 3)
    tickets = [valid_row(CONTRACT.entity("call_center", "tickets"), i) for i in range(3)]
    _arrive(write_delivery(landing, "call_center", day, {"tickets": tickets}), day, 40)  # late: 40 h
    events = [valid_row(CONTRACT.entity("app_events", "events"), i) for i in range(2)]
    _arrive(write_delivery(landing, "app_events", day, {"events": events}), day, 2)  # 2 events: a collapse
    result, _ = _daily_build(root, day, _Env)
    return root, day, result


@pytest.fixture(scope="module")
def critical_day(corrupted, warning_day):
    """Day +2: a file without a required column, a duplicate key burst; `daily_build` run for it."""
    from tests.conftest import _Env

    root, _, day = corrupted
    landing = root / "landing"
    policies = CONTRACT.entity("policy_admin", "policies")
    rows = [valid_row(policies, i) for i in range(5)]
    without = [c for c in policies.column_names if c != "product_code"]
    _arrive(write_delivery(landing, "policy_admin", day, {"policies": rows}, columns={"policies": without}), day, 3)
    payment = valid_row(CONTRACT.entity("billing", "payments"), 0)
    _arrive(write_delivery(landing, "billing", day, {"payments": [payment] * 30}), day, 3)
    return (root, day, *_daily_build(root, day, _Env))


def test_warnings_are_reported_and_do_not_block(warning_day):
    root, day, result = warning_day
    assert result.success, "warnings never fail the run"
    checks = _checks(result)
    invalid_ids = checks[("staging/stg_bank_core__customers", "gx_id_validity")]
    assert not invalid_ids.passed and invalid_ids.severity == dg.AssetCheckSeverity.WARN
    assert invalid_ids.metadata["unexpected_count"].value >= 150
    late = checks[("raw/call_center/tickets", "sla_delivery_freshness")]
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert late.metadata["delivery_lag_hours"].value == pytest.approx(40, abs=0.1)
    collapse = checks[("raw/app_events/events", "sla_volume")]
    assert not collapse.passed and collapse.severity == dg.AssetCheckSeverity.WARN
    assert collapse.metadata["anomaly"].value == "collapse"
    # everything else about these deliveries is fine: the raw suites pass, staging is built
    for (asset, name), ev in checks.items():
        if name in GX_RAW:
            assert ev.passed, (asset, name)
    assert "staging/stg_bank_core__customers" in _materialized(result)
    assert checks[("raw/bank_core/customers", "sla_delivery_freshness")].passed


def test_warning_day_in_dq_sla_daily(warning_day):
    root, day, _ = warning_day
    con = duckdb.connect(str(root / "warehouse" / "cdp.duckdb"), read_only=True)
    try:
        rows = {r[0]: r[1:] for r in con.execute(
            "select source_system, delivered, passes_freshness, passes_id_validity, volume_anomaly, passes_sla "
            "from marts.dq_sla_daily where business_date = ?", [day]).fetchall()}
    finally:
        con.close()
    assert rows["bank_core"][0] and rows["bank_core"][2] is False  # 150 invalid IDs that day
    assert rows["call_center"][1] is False  # late
    assert rows["app_events"][3] == "collapse"
    assert rows["policy_admin"][0] is False  # a system that did not deliver this day: a row, not delivered
    assert all(rows[s][4] is False for s in ("bank_core", "call_center", "app_events"))


def test_critical_failures_block_downstream_in_the_same_run(critical_day):
    root, day, result, graph = critical_day
    assert not result.success
    checks = _checks(result)
    schema = checks[("raw/policy_admin/policies", "gx_schema")]
    assert not schema.passed and schema.severity == dg.AssetCheckSeverity.ERROR
    assert "product_code" in json.dumps(schema.metadata["failures"].value)
    burst = checks[("raw/billing/payments", "gx_key_unique")]
    assert not burst.passed and burst.severity == dg.AssetCheckSeverity.ERROR
    assert burst.metadata["unexpected_count"].value == 30
    # the raw files were loaded (and their good parts pass), but nothing downstream was built
    assert checks[("raw/billing/payments", "gx_required_not_null")].passed
    materialized = _materialized(result)
    assert {"raw/policy_admin/policies", "raw/billing/payments"} <= materialized
    downstream = [k for k in materialized if not k.startswith("raw/") and _reads_raw(graph, dg.AssetKey(k.split("/")))]
    assert downstream == [], "nothing downstream of the raw layer may be built"
    assert "staging/stg_billing__payments" not in materialized  # (what may run: the dbt seeds, which read no raw)
    failed_steps = {ev.step_key for ev in result.all_events if ev.event_type_value == "STEP_FAILURE"}
    assert any(k.startswith("raw_quality") for k in failed_steps)
    assert sla_config().is_critical("raw", "schema") and sla_config().is_critical("raw", "key_unique")


def test_cdp_build_does_not_transform_over_a_critical_failure(critical_day, platform_env, tmp_path):
    from dagster_project.cli import ensure_dagster_home, run_build

    root, day, _, _ = critical_day
    with platform_env({**_env(root), "DAGSTER_HOME": str(tmp_path / "dagster_home")}):
        ensure_dagster_home()
        summary = run_build(dates=[day.isoformat()])
    assert summary.failed_runs == [f"ingest {day.isoformat()}"]
    assert summary.blocked == summary.failed_runs
    assert not [layer for layer in summary.checks if layer != "raw"], "no check ran downstream of raw"
