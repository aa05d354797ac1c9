"""Tiering rules as configuration: the shipped rules validate; conflicting configs are rejected
with the file, line, rule and conflict named; override requests without both approvals are
reported; Dagster refuses to load definitions over bad rules (so no run starts)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from dagster_project.tiering import rules
from dagster_project.tiering.rules import TierRuleError, check_override_requests, validate_rules


@pytest.fixture
def seeds(tmp_path) -> Path:
    out = tmp_path / "tiering"
    shutil.copytree(rules.SEED_DIR, out)
    return out


def _rewrite(path: Path, edit) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fields = list(rows[0].keys()) if rows else next(csv.reader(path.open(encoding="utf-8")))
    rows = edit(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def _problems(seeds: Path) -> list[str]:
    with pytest.raises(TierRuleError) as exc:
        validate_rules(seeds)
    return [str(p) for p in exc.value.problems]


def test_the_shipped_rules_validate():
    vocab = validate_rules()
    assert vocab["value_tiers"] == {"basic", "mid", "high_value", "potential"}
    assert vocab["service_tiers"] == {"diamond", "gold", "standard", "automated"}
    assert vocab["grades"]["risk"] == {"A", "B", "C", "D"}


def test_overlapping_value_ranges_are_rejected(seeds):
    def edit(rows):
        for r in rows:
            if r["product_line"] == "*" and r["value_tier"] == "high_value":
                r["min_ratio"] = "2.5"  # mid is [1, 3)
        return rows
    _rewrite(seeds / "tier_value_rules.csv", edit)
    problems = _problems(seeds)
    assert problems == [f"{seeds}/tier_value_rules.csv line 4 (*/high_value): overlaps line 3 (*/mid [1, 3)) on [2.5, 3)"]


def test_a_gap_between_value_ranges_is_rejected(seeds):
    def edit(rows):
        for r in rows:
            if r["product_line"] == "annuity" and r["value_tier"] == "high_value":
                r["min_ratio"] = "5"  # mid ends at 4
        return rows
    _rewrite(seeds / "tier_value_rules.csv", edit)
    problems = _problems(seeds)
    assert len(problems) == 1
    assert "tier_value_rules.csv line 7 (annuity/high_value): gap: nothing covers [4, 5)" in problems[0]


def test_tiers_whose_ranges_contradict_their_order_are_rejected(seeds):
    def edit(rows):
        for r in rows:
            if r["product_line"] == "*" and r["value_tier"] == "mid":
                r["value_tier"] = "high_value_tmp"
        for r in rows:
            if r["product_line"] == "*" and r["value_tier"] == "high_value":
                r["value_tier"] = "mid"
            if r["value_tier"] == "high_value_tmp":
                r["value_tier"] = "high_value"
        return rows
    _rewrite(seeds / "tier_value_rules.csv", edit)
    problems = _problems(seeds)
    assert any("tier_value_rules.csv line 4 (*/mid): contradicts line 3: mid ranks below high_value" in p
               for p in problems), problems


def test_a_grade_defined_twice_is_rejected(seeds):
    _rewrite(seeds / "tier_grade_rules.csv",
             lambda rows: rows + [dict(rows[0], grade="A", grade_rank="9", min_score="0.9", max_score="")])
    problems = _problems(seeds)
    assert any("tier_grade_rules.csv line 14 (*/risk/A): contradicts line 2: grade 'A' defined twice" in p
               for p in problems), problems


def test_service_rules_matching_one_combination_twice_are_rejected(seeds):
    _rewrite(seeds / "tier_service_rules.csv", lambda rows: rows + [
        {"rule_id": "gold_for_risky_devoted", "value_tiers": "high_value|mid", "risk_grades": "C",
         "loyalty_grades": "devoted", "service_tier": "gold", "note": ""}])
    problems = _problems(seeds)
    # high_value/C/devoted is diamond_core's (diamond): a contradiction; mid/C/devoted is gold_mid_loyal's (gold): an overlap
    assert (f"{seeds}/tier_service_rules.csv line 11 (gold_for_risky_devoted): contradicts rule diamond_core (line 2) on "
            "value tier high_value, risk grade C, loyalty grade devoted: diamond vs gold") in problems
    assert (f"{seeds}/tier_service_rules.csv line 11 (gold_for_risky_devoted): overlaps rule gold_mid_loyal (line 4) on "
            "value tier mid, risk grade C, loyalty grade devoted: gold vs gold") in problems
    assert len(problems) == 2


def test_a_combination_no_service_rule_matches_is_rejected(seeds):
    _rewrite(seeds / "tier_service_rules.csv", lambda rows: [r for r in rows if r["rule_id"] != "automated_basic"])
    problems = _problems(seeds)
    assert len(problems) == 6  # basic x {C, D} x {new, loyal, devoted}
    assert all("tier_service_rules.csv (coverage): gap: no service rule matches value tier basic, risk grade" in p
               for p in problems)


def test_unknown_features_vocabularies_and_bad_numbers_are_rejected(seeds):
    def weights(rows):
        rows[0]["feature"] = "f_shoe_size"
        rows[1]["weight"] = "-0.2"
        rows.append(dict(rows[2]))  # same feature weighted twice
        return rows
    _rewrite(seeds / "tier_score_weights.csv", weights)

    def settings(rows):
        for r in rows:
            if r["setting"] == "pyramid_base":
                r["value"] = "basic|mid"  # mid is also in pyramid_middle
        return rows
    _rewrite(seeds / "tier_settings.csv", settings)

    def lines(rows):
        rows[0]["lapse_rate"] = "1.5"
        return rows
    _rewrite(seeds / "tier_product_lines.csv", lines)
    problems = _problems(seeds)
    text = "\n".join(problems)
    assert "tier_score_weights.csv line 2 (*/risk/f_claim_frequency): unknown feature 'f_shoe_size'" not in text
    assert "tier_score_weights.csv line 2 (*/risk/f_shoe_size): unknown feature 'f_shoe_size'" in text
    assert "tier_score_weights.csv line 3 (*/risk/f_claim_severity): weight -0.2 must be positive" in text
    assert ("tier_score_weights.csv line 32 (*/risk/f_fraud_suspected): contradicts line 4: "
            "the same feature weighted twice") in text
    assert "tier_settings.csv line 7 (pyramid_base): contradicts pyramid_middle: value tier mid in two layers" in text
    assert "tier_product_lines.csv line 2 (life): lapse_rate 1.5 outside [0, 1)" in text


def test_override_requests_without_both_approvals_are_reported(seeds):
    (seeds / "tier_override_requests.csv").write_text(
        "override_id,customer_id,service_tier,reason,requested_by,requested_at,risk_approved_by,business_approved_by,expires_on\n"
        "O1,C1,diamond,key account,alice,2025-10-05 10:00:00,rita,bob,\n"
        "O2,C2,diamond,no risk,alice,2025-10-05 10:00:00,,bob,\n"
        "O3,C3,gold,nobody,alice,2025-10-05 10:00:00,,,\n"
        "O4,C4,gold,self,bob,2025-10-05 10:00:00,rita,bob,\n", encoding="utf-8")
    problems = [str(p) for p in check_override_requests(seeds)]
    assert problems == [
        f"{seeds}/tier_override_requests.csv line 3 (override O2 for C2): rejected: missing risk approval",
        f"{seeds}/tier_override_requests.csv line 4 (override O3 for C3): rejected: missing risk and business approval",
        f"{seeds}/tier_override_requests.csv line 5 (override O4 for C4): rejected: approver is the requester",
    ]
    validate_rules(seeds)  # override requests never make the rules invalid: dbt rejects them row by row


def test_dagster_refuses_to_load_over_conflicting_rules(seeds, monkeypatch):
    from dagster_project.definitions import build_definitions

    _rewrite(seeds / "tier_service_rules.csv", lambda rows: [r for r in rows if r["rule_id"] != "diamond_core"])
    monkeypatch.setattr(rules, "SEED_DIR", seeds)
    with pytest.raises(TierRuleError, match="gap: no service rule matches value tier high_value"):
        build_definitions()
