"""Quality layer without a warehouse: generated suites, SLA config, check wiring, SLA rules."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import dagster as dg
import pytest
import yaml

from dagster_project.quality import suites
from dagster_project.quality.batches import LoggedDelivery, delivery_freshness, volume_assessment
from dagster_project.quality.checks import build_quality_checks, raw_plans, warehouse_plans
from dagster_project.quality.thresholds import SLA_PATH, parse_sla, sla_config
from dagster_project.settings import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from dagster_project.sources.contract import load_contract

CONTRACT = load_contract()


def test_committed_suites_and_dbt_config_match_the_generator():
    for path, text in suites.outputs().items():
        assert path.exists(), f"{path} missing: run python -m dagster_project.quality.suites"
        assert path.read_text(encoding="utf-8") == text, (
            f"{path} is stale: run python -m dagster_project.quality.suites and commit the result")
    generated = {p for p in suites.outputs() if p.suffix == ".json"}
    assert set(EXPECTATIONS_DIR.glob("*/*.json")) == generated, "expectations/ holds a suite nobody generates"


def test_raw_suites_restate_the_contract():
    docs = {s.name: s.document for s in suites.build_suites() if s.layer == "raw"}
    assert set(docs) == {f"raw.{e.qualified_name}" for e in CONTRACT.entities}
    for e in CONTRACT.entities:
        exps = docs[f"raw.{e.qualified_name}"]["expectations"]
        by_rule = {}
        for x in exps:
            by_rule.setdefault(x["meta"]["rule"], []).append(x)
        required = [c.name for c in e.columns if c.required or c.name in e.key]
        (schema,) = by_rule["schema"]
        assert schema["kwargs"] == {"column_set": required, "exact_match": False}
        assert [x["kwargs"]["column"] for x in by_rule["required_not_null"]] == required
        enums = {c.name: list(c.values) for c in e.columns if c.type == "enum"}
        vocab = {x["kwargs"]["column"]: x["kwargs"]["value_set"]
                 for x in by_rule.get("vocabulary", []) + by_rule.get("optional_vocabulary", [])}
        assert vocab == enums
        (unique,) = by_rule["key_unique"]
        cols = unique["kwargs"].get("column_list") or [unique["kwargs"]["column"]]
        assert cols == list(dict.fromkeys([*e.key, *e.version_columns]))


def test_every_staging_model_has_a_suite_on_existing_columns():
    models = {p.stem for p in (DBT_PROJECT_DIR / "models" / "staging").glob("*/stg_*.sql")}
    docs = {s.name.split(".", 1)[1]: s for s in suites.build_suites() if s.layer == "staging"}
    assert set(docs) == models
    for model, spec in docs.items():
        yml = next((DBT_PROJECT_DIR / "models" / "staging").glob(f"*/_*__models.yml"), None)
        documented = set()
        for path in (DBT_PROJECT_DIR / "models" / "staging").glob("*/_*__models.yml"):
            for m in yaml.safe_load(path.read_text(encoding="utf-8")).get("models", []):
                if m["name"] == model:
                    documented = {c["name"] for c in m.get("columns", [])}
        assert yml is not None and documented, model
        missing = [c for c in spec.columns if c not in documented]
        assert not missing, f"{model}: suite columns not in the model: {missing}"
        rules = set(spec.rules)
        assert "key_unique" in rules and "date_ranges" in rules, model


def test_every_rule_has_a_severity_and_critical_means_blocking():
    sla = sla_config()
    for s in suites.build_suites():
        for rule in s.rules:
            assert sla.severity_of(s.layer, rule, s.name) in ("critical", "warning")
    for plan in raw_plans(sla):
        spec = plan.spec(partitioned=True)
        assert spec.blocking == sla.is_critical("raw", plan.rule)
        assert spec.partitions_def is not None


def test_severity_of_the_acceptance_corruptions():
    sla = sla_config()
    assert sla.is_critical("raw", "schema")  # a missing column blocks
    assert sla.is_critical("raw", "key_unique")  # a duplicate key burst blocks
    for layer, rule in (("staging", "id_validity"), ("raw", "delivery_freshness"), ("raw", "volume")):
        assert sla.severity_of(layer, rule) == "warning"


def test_sla_config_is_validated():
    doc = yaml.safe_load(SLA_PATH.read_text(encoding="utf-8"))
    bad = json.loads(json.dumps(doc))
    bad["severity"]["raw"]["schema"] = "fatal"
    with pytest.raises(ValueError, match="critical"):
        parse_sla(bad)
    bad = json.loads(json.dumps(doc))
    bad["thresholds"]["id_validity_min_rate"] = 1.5
    with pytest.raises(ValueError, match="within"):
        parse_sla(bad)
    bad = json.loads(json.dumps(doc))
    bad["severity"]["overrides"] = {"staging.stg_claims__claims": {"no_such_rule": "critical"}}
    with pytest.raises(ValueError, match="no such rule"):
        parse_sla(bad)
    ok = json.loads(json.dumps(doc))
    ok["severity"]["overrides"] = {"staging.stg_claims__claims": {"id_validity": "critical"}}
    sla = parse_sla(ok)
    assert sla.severity_of("staging", "id_validity", "staging.stg_claims__claims") == "critical"
    assert sla.severity_of("staging", "id_validity", "staging.stg_bank_core__customers") == "warning"


def test_mart_suites_attach_only_when_their_tables_are_assets():
    raw = {dg.AssetKey(["raw", e.system, e.name]) for e in CONTRACT.entities}
    staging = {dg.AssetKey(["staging", f"stg_{e.qualified_name}"]) for e in CONTRACT.entities}
    sla_mart = dg.AssetKey(["marts", "dq_sla_daily"])
    base = raw | staging | {sla_mart}
    _, marts = warehouse_plans(base)
    assert {(p.asset_key, p.name) for p in marts} == {(sla_mart, "sla_daily")}
    xref = dg.AssetKey(["identity", "customer_xref"])
    _, marts = warehouse_plans(base | {xref})
    names = {(p.asset_key.to_user_string(), p.name) for p in marts}
    assert ("identity/customer_xref", "gx_records_resolved") in names
    assert ("marts/dq_sla_daily", "gx_duplicate_rate") in names
    # person_records_resolved needs identity/int_person_records too
    plan = next(p for p in marts if p.asset_key == xref and p.name == "gx_records_resolved")
    assert plan.suites == ["identity.customer_xref"]
    # the checks build into valid definitions
    checks = build_quality_checks(base | {xref})
    assert {c.node_def.name for c in checks} == {"raw_quality", "staging_quality", "marts_quality"}


def _log(d: date, rows: int, arrived: datetime | None = None) -> LoggedDelivery:
    return LoggedDelivery(d, "loaded", rows, rows, 0, arrived, (), (), None, "x")


def test_volume_rule():
    sla = sla_config()
    events = CONTRACT.entity("app_events", "events")
    d0 = date(2025, 1, 1)
    logs = {d0: _log(d0, 50_000)}  # the initial load is never part of a median
    logs |= {d0 + timedelta(days=i): _log(d0 + timedelta(days=i), 400 + i) for i in range(1, 9)}
    assert volume_assessment(events, logs, d0, sla)["reason"] == "initial load"
    assert not volume_assessment(events, logs, d0 + timedelta(days=2), sla)["assessed"]  # 1 earlier delivery
    ok = volume_assessment(events, logs, d0 + timedelta(days=8), sla)
    assert ok["assessed"] and ok["passed"] and ok["history_days"] == 7
    logs[d0 + timedelta(days=9)] = _log(d0 + timedelta(days=9), 10)
    collapse = volume_assessment(events, logs, d0 + timedelta(days=9), sla)
    assert not collapse["passed"] and collapse["anomaly"] == "collapse"
    logs[d0 + timedelta(days=9)] = _log(d0 + timedelta(days=9), 5000)
    assert volume_assessment(events, logs, d0 + timedelta(days=9), sla)["anomaly"] == "spike"
    # monthly deliveries are judged on their day of the month only
    balances = CONTRACT.entity("bank_core", "monthly_balances")
    assert "day of the month" in volume_assessment(balances, logs, d0 + timedelta(days=3), sla)["reason"]


def test_freshness_rule():
    d = date(2025, 10, 1)  # ends 2025-10-02 00:00 +08:00 = 2025-10-01 16:00 UTC
    on_time = delivery_freshness(_log(d, 1, datetime(2025, 10, 2, 10, 0, tzinfo=timezone.utc)), 24, "Asia/Shanghai")
    assert on_time["passed"] and on_time["delivery_lag_hours"] == 18
    late = delivery_freshness(_log(d, 1, datetime(2025, 10, 2, 17, 0, tzinfo=timezone.utc)), 24, "Asia/Shanghai")
    assert not late["passed"] and late["delivery_lag_hours"] == 25
    assert delivery_freshness(_log(d, 1, None), 24, "Asia/Shanghai") is None


def test_dq_config_macro_holds_the_sla_thresholds():
    text = suites.dq_config_macro()
    payload = text[text.index("fromjson('") + len("fromjson('"):text.rindex("')")].replace("\\'", "'")
    cfg = json.loads(payload)
    assert cfg["thresholds"] == sla_config().as_dict()
    assert set(cfg["entities"]) == {e.qualified_name for e in CONTRACT.entities}
    holder = cfg["entities"]["policy_admin__policies"]["person_records"][0]
    assert holder["record_id_sql"] == "cast(policy_no as string) || ':holder'"
    assert Path(suites.DQ_CONFIG_MACRO).exists()


def test_old_validations_are_pruned(tmp_path):
    from dagster_project.quality.gx_runner import _prune_validations

    store, pages = tmp_path / "validations", tmp_path / "pages"
    for day in range(1, 6):
        for run in range(4):
            for root in (store, pages):
                (root / "raw" / "billing__payments" / f"business_date=2025-10-0{day}" / f"2026010{run}T000000Z").mkdir(
                    parents=True)
    protected = {store / "raw" / "billing__payments" / "business_date=2025-10-01"}
    _prune_validations(store, pages, keep=3, keep_batches=3, protected=protected)
    for root in (store, pages):
        days = sorted(p.name for p in (root / "raw" / "billing__payments").iterdir())
        assert days == ["business_date=2025-10-01", "business_date=2025-10-03", "business_date=2025-10-04",
                        "business_date=2025-10-05"]
        runs = sorted(p.name for p in (root / "raw" / "billing__payments" / "business_date=2025-10-05").iterdir())
        assert runs == ["20260101T000000Z", "20260102T000000Z", "20260103T000000Z"]
