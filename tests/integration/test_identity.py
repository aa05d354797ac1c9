"""Identity resolution scored against the simulator's truth, and its ids' stability.

- the session warehouse (`built_platform`: seed 7, default noise, built by `cdp build`, so the
  identity_resolution asset ran inside the transform job);
- a second, lean warehouse with another seed and `noise="high"` (tests/fixtures/identity.py);
- a stability run: days 1..N, then day N+1, against a rebuild of days 1..N+1 from scratch.

Acceptance (issue 3): pairwise precision >= 0.995, pairwise recall >= 0.98, duplicate rate < 1%,
no household members merged by a shared mobile alone, no enterprise merged with a person. Recall and duplicate rate are
asserted against the *linkable* truth (identity/evaluate.py: records sharing nothing with the
rest of their person - a WeCom nickname, a mobile alone, a hash of an ID nothing else carries -
cannot be placed by any resolver); the raw figures are printed next to them.
"""

from __future__ import annotations

from datetime import timedelta

import duckdb
import pytest

from dagster_project.sources.contract import load_contract
from tests.fixtures.identity import LeanWarehouse

from dagster_project.identity.evaluate import score

pytestmark = pytest.mark.slow

MIN_PRECISION = 0.995
MIN_RECALL = 0.98
MAX_DUPLICATE_RATE = 0.01

SECOND_SEED = dict(persons=3000, days=5, seed=11, noise="high")


def _scores(warehouse, truth_dir) -> tuple:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as wh (read_only)")
        con.execute(f"create view truth as select * from '{truth_dir}/person_records.parquet'")
        all_records = score(con, "wh.identity.customer_xref", "truth", records="wh.identity.int_person_records")
        return all_records
    finally:
        con.close()


def _assert_quality(s, label: str) -> None:
    print(f"\n[{label}] {s}")
    assert s.precision >= MIN_PRECISION, s
    assert s.linkable_recall >= MIN_RECALL, s
    assert s.linkable_duplicate_rate < MAX_DUPLICATE_RATE, s
    assert s.household_mobile_merges == 0, s           # never by a shared mobile alone
    assert s.household_merges <= 0.001 * s.customers, s  # and hardly ever at all
    assert s.party_mixes == 0, s


@pytest.fixture(scope="module")
def second_seed(tmp_path_factory) -> LeanWarehouse:
    wh = LeanWarehouse(tmp_path_factory.mktemp("identity_seed11"))
    wh.simulate(**SECOND_SEED)
    wh.ingest()
    wh.build_person_records()
    wh.resolve()
    return wh


def test_person_records_are_the_contract_records(built_platform):
    """One row per person-bearing record, keyed as SOURCES.md says, roles as the contract lists."""
    contract = load_contract()
    roles = {(e.system, e.name, p.role) for e in contract.person_bearing_entities for p in e.person_records}
    con = duckdb.connect()
    try:
        con.execute(f"attach '{built_platform.warehouse}' as wh (read_only)")
        con.execute(f"create view truth as select * from '{built_platform.truth}/person_records.parquet'")
        got = set(con.execute("select distinct source_system, source_entity, role from wh.identity.int_person_records").fetchall())
        assert got == roles
        unknown, covered, truth_n = con.execute("""
            select (select count(*) from wh.identity.int_person_records r
                    anti join truth t using (source_system, source_record_id)),
                   (select count(*) from truth t semi join wh.identity.int_person_records r
                    using (source_system, source_record_id)),
                   (select count(*) from truth)
        """).fetchall()[0]
        assert unknown == 0, "every record id must be one the truth knows (contract keys)"
        # the rest were quarantined, deleted (op D) or superseded before the warehouse saw them
        assert covered / truth_n > 0.97
        party = dict(con.execute("""
            select r.party_type = t.party_type, count(*) from wh.identity.int_person_records r
            join truth t using (source_system, source_record_id) group by 1
        """).fetchall())
        assert party.get(False, 0) == 0
    finally:
        con.close()


def test_xref_covers_every_person_record_once(built_platform):
    con = duckdb.connect(str(built_platform.warehouse), read_only=True)
    try:
        n_records, n_xref, n_keys, nulls = con.execute("""
            select (select count(*) from identity.int_person_records),
                   (select count(*) from identity.customer_xref),
                   (select count(*) from (select distinct source_system, source_record_id from identity.customer_xref)),
                   (select count(*) from identity.customer_xref where customer_id is null or match_rule is null)
        """).fetchall()[0]
        assert n_records == n_xref == n_keys
        assert nulls == 0
        rules = dict(con.execute("select match_rule, count(*) from identity.customer_xref group by 1").fetchall())
        assert rules.get("resident_id", 0) > 0 and rules.get("probabilistic", 0) > 0
        assert con.execute("""
            select count(*) from identity.customer_xref x join identity.int_person_records r
            using (source_system, source_record_id)
            where not r.is_resolvable and x.match_rule <> 'unresolvable'
        """).fetchall()[0][0] == 0
    finally:
        con.close()


def test_golden_record_households_and_360(built_platform):
    """dim_customer: one row per customer, every surviving value traceable to a record of that
    customer; dim_household and customer_360 cover the customers."""
    con = duckdb.connect(str(built_platform.warehouse), read_only=True)
    try:
        customers, dims, c360 = con.execute("""
            select (select count(distinct customer_id) from identity.customer_xref),
                   (select count(*) from core.dim_customer), (select count(*) from core.customer_360)
        """).fetchall()[0]
        assert customers == dims == c360
        for attr in ("name", "id_no", "mobile", "birth_date", "gender"):
            orphans = con.execute(f"""
                select count(*) from core.dim_customer d
                left join identity.customer_xref x
                  on x.source_system = d.{attr}_source_system and x.source_record_id = d.{attr}_source_record_id
                where d.{attr} is not null and (x.customer_id is null or x.customer_id <> d.customer_id)
            """).fetchall()[0][0]
            assert orphans == 0, attr
        persons_without_household = con.execute(
            "select count(*) from core.dim_customer where party_type = 'person' and household_id is null").fetchall()[0][0]
        assert persons_without_household == 0
        assert con.execute("select sum(policies) from core.customer_360").fetchall()[0][0] > 0
    finally:
        con.close()


def test_resolution_quality_on_the_session_warehouse(built_platform):
    _assert_quality(_scores(built_platform.warehouse, built_platform.truth), "seed 7, default noise")


def test_resolution_quality_on_another_seed_with_high_noise(second_seed):
    _assert_quality(_scores(second_seed.path, second_seed.truth), "seed 11, high noise")


def test_ids_are_stable_across_daily_runs_and_reproduced_by_a_rebuild(second_seed, tmp_path):
    """Days 1..N, then N+1: an existing id changes only through a recorded merge or split; the
    second_seed warehouse (all days from scratch) names every record exactly the same."""
    daily = LeanWarehouse(tmp_path)
    dates = second_seed.dates()
    last = dates[-1]
    daily.ingest(landing=second_seed.landing, until=last - timedelta(days=1))
    daily.build_person_records()
    daily.resolve()
    before = _xref(daily.path)
    daily.ingest(landing=second_seed.landing, only=last)
    daily.build_person_records()
    daily.resolve()
    after = _xref(daily.path)
    history = _history(daily.path)
    moved = {(old, new) for key, old in before.items() if key in after and (new := after[key]) != old}
    recorded = {(h[2], h[3]) for h in history}
    assert moved <= recorded, f"ids changed without a recorded merge/split: {sorted(moved - recorded)[:5]}"
    for event_date, event_type, old, new, _ in history:
        assert event_type in ("merge", "split")
    # new records joined existing ids or got new ones; no existing id disappeared unrecorded
    gone = set(before.values()) - set(after.values())
    assert gone <= {h[2] for h in history if h[1] == "merge"}
    # a rebuild from scratch gives the same ids
    rebuilt = _xref(second_seed.path)
    assert rebuilt.keys() == after.keys()
    differ = [k for k in after if after[k] != rebuilt[k]]
    assert not differ, f"{len(differ)} records named differently by the rebuild, e.g. {differ[:3]}"


def _xref(path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {(s, r): c for s, r, c in con.execute(
            "select source_system, source_record_id, customer_id from identity.customer_xref").fetchall()}
    finally:
        con.close()


def _history(path) -> list:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select event_date, event_type, from_customer_id, to_customer_id, records "
                           "from identity.customer_id_history").fetchall()
    finally:
        con.close()
