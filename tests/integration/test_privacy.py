"""Privacy acceptance on the session platform (built by `cdp build`, so the privacy assets ran).

- analyst views and the analysts' DuckDB file expose no raw ID number or mobile;
- every privacy request gets an audit row;
- erasure: on a copy of the platform (warehouse + lake), an erasure request for a real simulated
  person, processed like the daily build does; then no table of the warehouse and no file of the
  lake holds the person's ID, mobile or name (every relation, every text column), and
  re-delivering every landing file does not bring them back (rows suppressed and counted).
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from dagster_project.ingest.loader import ingest_entity_partition, scan_landing
from dagster_project.privacy.requests import process_requests
from dagster_project.settings import token_salt
from dagster_project.sources.contract import load_contract

pytestmark = pytest.mark.slow

FW = "０１２３４５６７８９ｘＸ"
HW = "0123456789XX"


def _connect(built):
    return duckdb.connect(str(built.warehouse), read_only=True)


def test_analyst_views_expose_no_raw_id_or_mobile(built_platform):
    con = _connect(built_platform)
    try:
        raw = con.execute("""
            select count(*) from analyst.customer_profile a
            join core.dim_customer c on a.id_no_masked = c.id_no or a.mobile_masked = c.mobile""").fetchall()[0][0]
        assert raw == 0
        masked = con.execute("""
            select id_no_masked, mobile_masked from analyst.customer_profile
            where id_no_masked is not null and mobile_masked is not null and length(id_no_masked) = 18 limit 1""").fetchall()
        id_masked, mobile_masked = masked[0]
        assert id_masked[3:14] == "*" * 11 and mobile_masked[3:7] == "****"
        # no text column of any analyst relation holds a raw identifier of any customer
        cols = con.execute("""select table_name, column_name from information_schema.columns
                              where table_schema = 'analyst' and data_type = 'VARCHAR'""").fetchall()
        for table, col in cols:
            hits = con.execute(f"""
                select count(*) from analyst."{table}" a join core.dim_customer c
                  on a."{col}" in (c.id_no, c.mobile, c.name, c.customer_id)""").fetchall()[0][0]
            assert hits == 0, f"analyst.{table}.{col} exposes raw identifiers"
        # tokens are stable: the same customer has the same token in every analyst view
        joined = con.execute("""select count(*) from analyst.customer_profile p
                                join analyst.customer_360_masked m using (customer_token)""").fetchall()[0][0]
        assert joined == con.execute("select count(*) from core.customer_360").fetchall()[0][0] > 0
    finally:
        con.close()


def test_analyst_file_holds_only_the_masked_schema(built_platform):
    path = built_platform.warehouse.with_name("analyst.duckdb")
    con = duckdb.connect(str(path), read_only=True)
    try:
        schemas = {r[0] for r in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
        assert schemas == {"analyst"}
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        assert {"customer_profile", "customer_360_masked"} <= tables
        cols = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
        assert not cols & {"id_no", "mobile", "name", "customer_id", "health_risk_band"}
    finally:
        con.close()


def test_every_privacy_request_has_an_audit_row(built_platform):
    con = _connect(built_platform)
    try:
        staged = {r[0] for r in con.execute("select request_id from staging.stg_call_center__privacy_requests").fetchall()}
        audit = dict(con.execute("select request_id, request_type from privacy.request_audit").fetchall())
        assert staged <= set(audit)
        # erased requests are gone from staging but kept (without identifiers) in the audit
        assert not {r for r, t in audit.items() if t == "erasure"} & staged
        assert con.execute("select count(*) from privacy.request_audit where completed_at is null").fetchall()[0][0] == 0
        logged = con.execute("select count(*) from privacy.audit_log where actor is null or reason is null").fetchall()[0][0]
        assert logged == 0
    finally:
        con.close()


# --------------------------------------------------------------------------- erasure


def _pick_person(con, offset: int = 0) -> tuple[str, str, str, str]:
    """(customer_id, id_no, mobile, name) of a person whose name and mobile no other customer has."""
    row = con.execute("""
        with rec as (
            select x.customer_id, p.name, p.mobile from identity.customer_xref x
            join identity.int_person_records p using (source_system, source_record_id)),
        names as (select name from rec where name is not null group by 1 having count(distinct customer_id) = 1),
        mobiles as (select mobile from rec where mobile is not null group by 1 having count(distinct customer_id) = 1)
        select c.customer_id, c.id_no, c.mobile, c.name from core.dim_customer c
        join names n on n.name = c.name join mobiles m on m.mobile = c.mobile
        where c.party_type = 'person' and c.id_no_kind = 'valid' and c.record_count >= 3
          and length(c.name) >= 3
        order by c.record_count desc, c.customer_id limit 1 offset ?""", [offset]).fetchall()
    assert row, "no suitable person in the session platform"
    return row[0]


def _add_person_record(con, record_id: str, customer: str, id_no=None, mobile=None, name=None,
                       entity: str = "privacy_requests", role: str = "requester",
                       match_rule: str = "resident_id", match_probability: float = 1.0) -> None:
    """A call_center row of identity.int_person_records (a privacy request is a person record) and
    its customer_xref row, as identity resolution leaves them."""
    con.execute("""insert into identity.int_person_records by name
                   select 'call_center' as source_system, ? as source_entity, ? as role, ? as source_record_id,
                          'person' as party_type, ? as id_no, ? as mobile, ? as name, true as is_resolvable,
                          date '2025-12-01' as first_seen_date, date '2025-12-01' as current_version_date""",
                [entity, role, record_id, id_no, mobile, name]).fetchall()
    con.execute("""insert into identity.customer_xref by name
                   select 'call_center' as source_system, ? as source_entity, ? as role, ? as source_record_id,
                          ? as customer_id, 'person' as party_type, ? as match_rule, ? as match_probability,
                          true as is_resolvable, false as is_anchor, date '2025-12-01' as first_seen_date,
                          date '2025-12-01' as resolved_on""",
                [entity, role, record_id, customer, match_rule, match_probability]).fetchall()


def _add_request(con, request_id: str, request_type: str, customer: str) -> None:
    """A call_center privacy request as staging and identity resolution leave it (no identifiers)."""
    con.execute("""insert into staging.stg_call_center__privacy_requests by name
                   select ? as request_id, 'missing' as id_no_kind, ? as request_type,
                          timestamp '2025-12-01 10:00:00' as received_at""", [request_id, request_type]).fetchall()
    _add_person_record(con, request_id, customer)


def _warehouse_hits(con, needles: list[str]) -> dict[str, int]:
    rels = con.execute("""select c.table_schema, c.table_name, list(c.column_name)
                          from information_schema.columns c
                          where c.data_type = 'VARCHAR' and c.table_schema not in ('raw', 'information_schema')
                            and c.table_catalog = current_database()
                          group by 1, 2""").fetchall()
    hits = {}
    for schema, table, cols in rels:
        cond = " or ".join(f'contains("{c}", ?)' for c in cols for _ in needles)
        n = con.execute(f'select count(*) from "{schema}"."{table}" where {cond}',
                        [n for _ in cols for n in needles]).fetchall()[0][0]
        if n:
            hits[f"{schema}.{table}"] = n
    return hits


def _lake_hits(lake, id_no: str, mobile: str, name: str) -> dict[str, int]:
    con = duckdb.connect()
    hits = {}
    for f in sorted(lake.glob("*/*/*/business_date=*/part-*.parquet")):
        cols = [r[0] for r in con.execute(f"describe select * from read_parquet('{f}')").fetchall()
                if r[1] == "VARCHAR"]
        if not cols:
            continue
        conds = []
        for c in cols:
            norm = f"upper(regexp_replace(translate(\"{c}\", '{FW}', '{HW}'), '[^0-9A-Za-z]', '', 'g'))"
            conds += [f"contains({norm}, '{id_no}')", f"contains({norm}, '{id_no[:6] + id_no[8:17]}')",
                      f"contains({norm}, '{mobile}')", f"contains(\"{c}\", '{name}')"]
        n = con.execute(f"select count(*) from read_parquet('{f}') where {' or '.join(conds)}").fetchall()[0][0]
        if n:
            hits[str(f.relative_to(lake))] = n
    con.close()
    return hits


def test_erasure_leaves_no_trace_and_redelivery_is_suppressed(built_platform, tmp_path, platform_env):
    root = tmp_path / "copy"
    lake, warehouse = root / "lake", root / "warehouse" / "cdp.duckdb"
    shutil.copytree(built_platform.lake, lake)
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(built_platform.warehouse, warehouse)
    env = {**built_platform.env(), "CDP_LAKE_DIR": str(lake), "CDP_WAREHOUSE_PATH": str(warehouse)}
    with platform_env(env):
        salt = token_salt()
        con = duckdb.connect(str(warehouse))
        try:
            customer, id_no, mobile, name = _pick_person(con)
            assert _warehouse_hits(con, [id_no, mobile, name]), "the person must be in the warehouse before"
            assert _lake_hits(lake, id_no, mobile, name), "the person must be in the lake before"
            # the request as it arrives: a call_center privacy request, matched to the customer
            con.execute("""insert into staging.stg_call_center__privacy_requests by name
                           select 'PRTEST0001' as request_id, ? as id_no, true as id_no_valid, 'valid' as id_no_kind,
                                  ? as mobile, true as mobile_valid, ? as name, 'erasure' as request_type,
                                  timestamp '2025-12-01 10:00:00' as received_at""", [id_no, mobile, name]).fetchall()
            _add_person_record(con, "PRTEST0001", customer, id_no, mobile, name)
            # and an access and a restrict_marketing request of another customer, in the same run
            other = _pick_person(con, offset=1)[0]
            # a relative's call from the person's phone: another customer's record the purge takes
            _add_person_record(con, "TKTEST0009", other, mobile=mobile, entity="tickets", role="caller",
                               match_rule="probabilistic", match_probability=0.95)
            _add_request(con, "PRTEST0002", "access", other)
            _add_request(con, "PRTEST0003", "restrict_marketing", other)
            out = process_requests(con, lake, root / "exports", salt)
            assert out.processed["erasure"] >= 1 and out.lake_rows > 0 and out.erased_rows > 0

            export = json.loads((root / "exports" / "PRTEST0002.json").read_text(encoding="utf-8"))
            assert [r["customer_id"] for r in export["tables"]["core.dim_customer"]] == [other]
            assert len(export["tables"]["identity.int_person_records"]) >= 3
            assert con.execute("select customer_id from privacy.marketing_restrictions").fetchall() == [(other,)]
            assert con.execute("""select count(*) from analyst.customer_profile where is_marketing_restricted""").fetchall() == [(1,)]
            assert dict(con.execute("""select request_id, actor is not null and reason is not null
                                       from privacy.audit_log where request_id like 'PRTEST%'""").fetchall()) == {
                "PRTEST0001": True, "PRTEST0002": True, "PRTEST0003": True}

            assert _warehouse_hits(con, [id_no, mobile, name]) == {}
            assert _lake_hits(lake, id_no, mobile, name) == {}
            # a record purged with the person (another's record on their policy or number) takes its
            # xref row along: the xref still covers exactly the person records
            assert con.execute("""select count(*) from identity.customer_xref x
                                  anti join identity.int_person_records p using (source_system, source_record_id)
                               """).fetchall() == [(0,)]
            audit = con.execute("select customer_id, status, rows_erased from privacy.request_audit "
                                "where request_id = 'PRTEST0001'").fetchall()
            assert audit == [(customer, "completed", out.lake_rows + out.erased_rows)]
            assert con.execute("select count(*) from privacy.audit_log where action = 'erasure_purge'").fetchall()[0][0] >= 1
        finally:
            con.close()

        # re-delivery: every delivered file of every date is loaded again into the purged lake
        contract = load_contract()
        suppressed = 0
        for d in sorted({x.business_date for x in scan_landing(built_platform.landing) if x.complete}):
            for entity in contract.entities:
                r = ingest_entity_partition(entity, d, built_platform.landing, lake, contract=contract)
                suppressed += r.rows_suppressed
                assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_suppressed
        assert suppressed > 0
        assert _lake_hits(lake, id_no, mobile, name) == {}
        logged = duckdb.connect().execute(
            f"select sum(rows_suppressed) from read_parquet('{lake}/ingest_log/*/*/*/*.parquet', union_by_name = true) "
            f"where loaded_at > now() - interval 1 hour").fetchall()[0][0]
        assert logged >= suppressed
