"""Churn: metrics on hand-computed cases, the time-based split, calibration, settings validation,
and the feature list kept in step with the dbt model and the plain-word reasons."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
import yaml

from dagster_project.scoring import metrics as M
from dagster_project.scoring.config import (
    CONFIG_MACRO,
    CONFIG_PATH,
    ChurnConfigError,
    config_macro,
    load_churn_config,
    parse_churn_config,
)
from dagster_project.scoring.features import FEATURE_NAMES
from dagster_project.scoring.model import Platt, TrainingDataError, lead_times, split_dates
from dagster_project.settings import DBT_PROJECT_DIR

CHURN_MODELS_YML = DBT_PROJECT_DIR / "models" / "marts" / "churn" / "_churn__models.yml"


# --------------------------------------------------------------------------- metrics


def test_roc_auc_hand_computed():
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert M.roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert M.roc_auc([0, 1], [0.5, 0.5]) == 0.5  # a tie counts one half
    # pairs (pos, neg): (0.8>0.3) (0.8>0.5) (0.4>0.3) (0.4<0.5) -> 3 of 4
    assert M.roc_auc([1, 0, 1, 0], [0.8, 0.3, 0.4, 0.5]) == 0.75
    assert np.isnan(M.roc_auc([1, 1], [0.2, 0.3]))


def test_pr_auc_top_share_captured_share_hand_computed():
    # ranks: 0.9 (pos) p=1, 0.8 (neg), 0.7 (pos) p=2/3 -> AP = (1 + 2/3) / 2
    assert M.pr_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(5 / 6)
    precision, recall = M.top_share([1, 0, 1, 0, 0, 0, 0, 0, 0, 1], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0], 0.2)
    assert (precision, recall) == (0.5, pytest.approx(1 / 3))
    # 5 units, top 20% = 1 unit (score 0.9) holding 3 of 6 events
    assert M.captured_share([0.9, 0.1, 0.5, 0.2, 0.3], [3, 1, 2, 0, 0], 0.2) == 0.5
    assert M.customer_probability([0.5, 0.5]) == 0.75
    assert M.brier([1, 0], [0.75, 0.25]) == 0.0625


def test_lead_time_counts_from_the_first_alert_within_the_horizon():
    import pandas as pd

    d = date(2025, 1, 1)
    scored = pd.DataFrame({
        "policy_no": ["P1"] * 4 + ["P2"] * 2,
        "as_of": [d, d + timedelta(14), d + timedelta(28), d + timedelta(42), d, d + timedelta(14)],
        "probability": [0.01, 0.2, 0.05, 0.3, 0.01, 0.02],
        "churned": [1, 1, 1, 1, 1, 1],
        "churn_date": [d + timedelta(70)] * 4 + [d + timedelta(30)] * 2,
    })
    # P1 first alerted on day 14, event on day 70 -> 56 days; P2 never alerted
    assert lead_times(scored, 0.1, 90) == [56]


# --------------------------------------------------------------------------- split and calibration


def test_time_based_split_leaves_a_purge_gap_before_the_evaluation():
    cfg = load_churn_config()
    start = date(2024, 1, 1)
    dates = [start + timedelta(days=14 * i) for i in range(40)]
    s = split_dates(dates, cfg)
    assert s.evaluation[-1] == dates[-1]
    assert (s.evaluation[-1] - s.evaluation[0]).days < cfg.evaluation_days
    assert (s.evaluation[0] - s.calibration[-1]).days >= cfg.purge_gap_days
    assert s.train[-1] < s.calibration[0]
    assert set(s.train) | set(s.calibration) | set(s.evaluation) <= set(dates)
    assert not set(s.train) & set(s.evaluation)
    with pytest.raises(TrainingDataError, match="train block"):
        split_dates(dates[-12:], cfg)


def test_platt_scaling_recovers_a_known_calibration():
    rng = np.random.default_rng(3)
    raw = rng.normal(0, 2, 40_000)
    y = rng.random(40_000) < 1 / (1 + np.exp(-(0.5 * raw - 2.0)))
    p = Platt.fit(raw, y)
    assert p.a == pytest.approx(0.5, abs=0.05)
    assert p.b == pytest.approx(-2.0, abs=0.1)


# --------------------------------------------------------------------------- settings


def _doc():
    return yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))


def test_shipped_settings_load_and_the_generated_macro_is_current():
    cfg = load_churn_config()
    assert cfg.band_of(0.95) == "high" and cfg.band_of(0.0) == "low"
    assert CONFIG_MACRO.read_text(encoding="utf-8") == config_macro(cfg), \
        "dbt/macros/churn/churn_config.sql is stale: run python -m dagster_project.scoring.config"


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["risk_bands"].reverse(), "risk_bands: min_probability must strictly decrease"),
    (lambda d: d["actions"]["rules"][0].update(channels=["fax"]), "channel 'fax'"),
    (lambda d: d["actions"]["rules"][0].update(trigger="birthday"), "trigger 'birthday'"),
    (lambda d: d["actions"]["rules"][3].update(min_days=20), "lifecycle windows of protection_benefits and family_planning overlap"),
    (lambda d: d["model"].update(purge_gap_days=30), "model.purge_gap_days: 30 is below definition.horizon_days"),
    (lambda d: d["reasons"].pop("days_to_anniversary"), "reasons.days_to_anniversary: missing"),
    (lambda d: d["actions"].update(contact_cap_per_month="three"), "actions.contact_cap_per_month: 'three' is not a int"),
    (lambda d: d["actions"]["owners"].update(gold="butler"), "actions.owners.gold"),
    (lambda d: d["as_of"].update(knowledge_cutoff_time="6.30"), "not HH:MM"),
    (lambda d: d["model"].update(refit_with_calibration="yes"), "model.refit_with_calibration: 'yes' is not a bool"),
    (lambda d: d["model"].pop("refit_with_calibration"), "model.refit_with_calibration: missing"),
])
def test_bad_settings_are_rejected_naming_the_key_and_rule(mutate, message):
    doc = copy.deepcopy(_doc())
    mutate(doc)
    with pytest.raises(ChurnConfigError) as err:
        parse_churn_config(doc, Path("churn.yaml"), list(FEATURE_NAMES))
    assert message in str(err.value)
    assert "churn.yaml" in str(err.value)


def test_reason_words_fill_in_the_value():
    cfg = load_churn_config()
    assert cfg.reason_text("max_days_past_due", 24.0) == "a premium is 24 days overdue"
    assert cfg.reason_text("announced_premium_change", 0.25) == "premium increase of +25% announced"


def test_feature_list_matches_the_dbt_model_and_its_documentation():
    doc = yaml.safe_load(CHURN_MODELS_YML.read_text(encoding="utf-8"))
    model = next(m for m in doc["models"] if m["name"] == "churn_features")
    assert [c["name"] for c in model["columns"]] == ["policy_no", "customer_id", "as_of", *FEATURE_NAMES]
    sql = (CHURN_MODELS_YML.parent / "churn_features.sql").read_text(encoding="utf-8")
    for name in FEATURE_NAMES:
        assert f"as {name}" in sql or f"line_{{{{ line }}}}" in sql, name


def test_churn_assets_schedule_and_quality_check_are_wired():
    import json

    import dagster as dg

    from dagster_project.definitions import defs
    from dagster_project.settings import EXPECTATIONS_DIR

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"scoring/churn_model", "marts/churn_model_runs", "marts/churn_scores", "marts/churn_features",
            "marts/churn_labels", "marts/retention_actions"} <= keys
    # scores follow the model, the actions follow the scores
    assert dg.AssetKey(["scoring", "churn_model"]) in graph.get(dg.AssetKey(["marts", "churn_scores"])).parent_keys
    assert dg.AssetKey(["marts", "churn_scores"]) in graph.get(dg.AssetKey(["marts", "int_retention_customers"])).parent_keys
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert ("marts/churn_scores", "gx_one_row_per_customer") in checks
    assert ("marts/churn_scores", "gx_output_ranges") in checks
    assert defs.resolve_job_def("churn_training") is not None
    assert defs.resolve_schedule_def("churn_retraining_schedule").cron_schedule == "0 5 * * 1"
    # the suite's band vocabulary is the configured bands
    suite = json.loads((EXPECTATIONS_DIR / "marts" / "marts.churn_scores.json").read_text(encoding="utf-8"))
    sets = [e["kwargs"]["value_set"] for e in suite["expectations"] if e["kwargs"].get("column") == "risk_band"]
    assert sets and sorted(sets[0]) == sorted(b.band for b in load_churn_config().risk_bands)
