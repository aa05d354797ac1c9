"""Tags and tiers on the shared simulated build (`built_platform`): every tag of the dictionary
computed and not constant, sensitive tags kept out of the analyst views, one tier per customer
shaped as a pyramid, entitlements per tier, the tier history snapshot, the quality checks on
the tier mart passed, and every mart column documented. The hand-computed cases are dbt unit
tests (dbt/models/marts/{tiering,tags}/_*__unit_tests.yml), run with every other dbt unit test
by tests/unit/test_dbt_normalisers.py."""

from __future__ import annotations

import csv
import duckdb
import pytest
import yaml

from dagster_project.settings import DBT_PROJECT_DIR

DICTIONARY = DBT_PROJECT_DIR / "seeds" / "tiering" / "tag_dictionary.csv"
MODEL_YAMLS = [DBT_PROJECT_DIR / "models" / "marts" / "tags" / "_tags__models.yml",
               DBT_PROJECT_DIR / "models" / "marts" / "tiering" / "_tiering__models.yml",
               DBT_PROJECT_DIR / "models" / "analyst" / "tags" / "_analyst_tags__models.yml"]
# tags whose every value may legitimately be one value in a 1,500-person, 6-day build: rare
# events; each is then checked against its source (constant only if the source has no case)
RARE = {
    "cmp_privacy_request": "select count(*) from identity.customer_xref where source_system = 'call_center' and source_record_id like 'R%'",
    "rsk_fraud_suspected": "select count(*) from staging.stg_claims__claims where fraud_suspected",
}


@pytest.fixture(scope="module")
def wh(built_platform):
    con = duckdb.connect(str(built_platform.warehouse), read_only=True)
    yield con
    con.close()


def _tags() -> dict[str, dict[str, str]]:
    with DICTIONARY.open(encoding="utf-8", newline="") as fh:
        return {r["tag_code"]: r for r in csv.DictReader(fh)}


def test_every_tag_is_computed_and_not_constant(wh):
    customers = wh.execute("select count(*) from core.dim_customer").fetchone()[0]
    stats = {code: (filled, distinct) for code, filled, distinct in wh.execute(
        "select tag_code, count(*), count(distinct tag_value) from marts.customer_tags group by tag_code").fetchall()}
    constant = []
    for code in _tags():
        filled, distinct = stats.get(code, (0, 0))
        assert filled > 0, f"tag {code} never computed"
        if distinct < 2:
            constant.append(code)
    for code in constant:
        assert code in RARE, f"tag {code} is constant"
        assert wh.execute(RARE[code]).fetchone()[0] == 0, f"tag {code} is constant although its source has cases"
    assert wh.execute("select count(*) from marts.customer_tag_profile").fetchone()[0] == customers
    # long and wide agree: a tag value in the long form is the column's value in the wide one
    sample = wh.execute("select customer_id, tag_value from marts.customer_tags where tag_code = 'lcy_stage' "
                        "order by customer_id limit 50").fetchall()
    for customer_id, value in sample:
        assert wh.execute("select lcy_stage from marts.customer_tag_profile where customer_id = ?",
                          [customer_id]).fetchone()[0] == value


def test_sensitive_tags_stay_out_of_the_analyst_views(wh):
    tags = _tags()
    hidden = {c for c, t in tags.items() if t["sensitivity"] in ("sensitive", "restricted")}
    shown = set(tags) - hidden
    assert hidden and shown
    analyst_tags = {r[0] for r in wh.execute("select distinct tag_code from analyst.customer_tags").fetchall()}
    assert analyst_tags and not analyst_tags & hidden
    assert analyst_tags <= shown
    columns = {r[0] for r in wh.execute("select column_name from information_schema.columns "
                                        "where table_schema = 'analyst' and table_name = 'customer_tag_profile'").fetchall()}
    assert columns == shown | {"customer_token", "as_of"}
    marts = {r[0] for r in wh.execute("select distinct tag_code from marts.customer_tags").fetchall()}
    assert hidden <= marts | set(RARE)


def test_one_tier_per_customer_in_a_pyramid(wh):
    customers = wh.execute("select count(*) from core.dim_customer").fetchone()[0]
    assert wh.execute("select count(*), count(distinct customer_id) from marts.customer_tier").fetchone() == (customers, customers)
    layers = dict(wh.execute("select pyramid_layer, count(*) from marts.customer_tier group by 1").fetchall())
    assert 0 < layers["top"] < layers["middle"] < layers["base"], layers
    # the pyramid holds among customers with premium in force too
    paying = dict(wh.execute("select pyramid_layer, count(*) from marts.customer_tier "
                             "where annual_premium_in_force > 0 group by 1").fetchall())
    assert 0 < paying["top"] < paying["middle"] < paying["base"], paying
    service = dict(wh.execute("select service_tier, count(*) from marts.customer_tier group by 1").fetchall())
    assert 0 < service["diamond"] < service["gold"] and service["gold"] < service["automated"], service
    # high_value means over the threshold and not declining
    bad = wh.execute("select count(*) from marts.customer_tier where value_tier = 'high_value' "
                     "and (premium_trend = 'declining' or value_ratio < 3)").fetchone()[0]
    assert bad == 0
    # the history snapshot holds one current version per customer
    assert wh.execute("select count(*), count(distinct customer_id) from marts.customer_tier_history "
                      "where dbt_valid_to is null").fetchone() == (customers, customers)


def test_service_entitlements_follow_the_tier(wh):
    rows = dict(((t, r), m) for t, r, m in wh.execute(
        "select distinct service_tier, request_type, target_minutes from marts.service_entitlements").fetchall())
    assert rows[("diamond", "non_urgent")] == 4 * 60
    assert rows[("diamond", "complex_request")] == 3 * 480
    assert rows[("diamond", "complaint")] == 24 * 60
    assert rows[("diamond", "urgent_claim")] == 30
    customers = wh.execute("select count(*) from marts.customer_tier").fetchone()[0]
    assert wh.execute("select count(*) from marts.service_entitlements").fetchone()[0] == 4 * customers
    effectiveness = wh.execute("select service_tier, renewal_rate, surrender_rate, silence_rate from marts.tier_effectiveness").fetchall()
    assert {r[0] for r in effectiveness} == {"diamond", "gold", "standard", "automated"}
    for _, *rates in effectiveness:
        assert all(r is None or 0 <= r <= 1 for r in rates)


def test_alerts_carry_the_tier_of_the_same_run(wh):
    as_of = wh.execute("select max(as_of_date) from marts.customer_tier").fetchone()[0]
    alerts = wh.execute("""
        select a.event_type, a.event_date, a.as_of_date, a.service_tier = t.service_tier
        from marts.tier_alerts as a inner join marts.customer_tier as t on t.customer_id = a.customer_id
    """).fetchall()
    assert alerts, "no event triggered on the latest business date"
    for event_type, event_date, alert_as_of, same_tier in alerts:
        assert alert_as_of == as_of and same_tier
        assert event_date <= as_of


def test_tier_checks_pass_and_every_mart_column_is_documented(built_platform, wh):
    mine = ("marts/customer_tier", "marts/customer_tag", "marts/tier_", "marts/service_entitlements",
            "marts/int_tiering", "analyst/")
    failed = [f for f in built_platform.summary.failed_checks if f.startswith(mine)]
    assert failed == []
    from dagster_project.definitions import defs
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys if k.asset_key.path == ["marts", "customer_tier"]}
    assert {"gx_one_row_per_customer", "gx_output_ranges"} <= checks
    documented = {}
    for path in MODEL_YAMLS:
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            documented[model["name"]] = {c["name"] for c in model["columns"]}
    aliases = {"analyst_customer_tags": ("analyst", "customer_tags"),
               "analyst_customer_tag_profile": ("analyst", "customer_tag_profile"),
               "analyst_customer_service_tier": ("analyst", "customer_service_tier")}
    for name, columns in documented.items():
        schema, table = aliases.get(name, ("marts", name))
        built = {r[0] for r in wh.execute("select column_name from information_schema.columns "
                                          "where table_schema = ? and table_name = ?", [schema, table]).fetchall()}
        assert built == columns, (name, built ^ columns)

