"""The matching asset: identity.int_person_records (dbt) -> identity.customer_xref and
identity.customer_id_history (warehouse tables), in the `duckdb` pool (it writes the warehouse).

The matching (identity/engine.py) runs where the warehouse is: on the DuckDB file itself, or with
CDP_ENGINE=spark every query on Spark, in a Spark job (identity/on_spark.py). Both run
`run_resolution` below with the same SQL, so ids are the same on both engines.

`customer_xref` holds one row per person-bearing record, every run, with its customer id and how
it got it (`match_rule`, `match_probability`). Records that carry too little to match
(`is_resolvable` false: an anonymous caller, a WeCom nickname) get a customer of their own, as
does every resolvable record nothing else matched: the xref never has a null customer id, so
facts always join to a customer, and a later record that identifies such a customer merges it
like any other (the merge is recorded). `customer_id_history` is append-only: one row per merge
or split, dated with the business date of the run's data.
"""


import json
import time
from typing import Callable

import dagster as dg
import duckdb
import yaml

from ..resources import DUCKDB_POOL, Warehouse
from ..settings import DBT_PROJECT_DIR
from .config import load_config
from .engine import Resolution, resolve

PERSON_RECORDS = dg.AssetKey(["identity", "int_person_records"])
CUSTOMER_XREF = dg.AssetKey(["identity", "customer_xref"])
CUSTOMER_ID_HISTORY = dg.AssetKey(["identity", "customer_id_history"])

# the tables' columns and types are described once, in the dbt source both sides read
SOURCES_YAML = DBT_PROJECT_DIR / "models" / "identity" / "_identity__sources.yml"
SIZE_BUCKETS = ((1, 1), (2, 2), (3, 5), (6, 10), (11, 20), (21, None))


def table_columns(table: str, source_name: str = "identity", sources_yaml=SOURCES_YAML) -> str:
    """`name type, ...` of a table of a dbt source (default `identity`) from its YAML `data_type`s."""
    doc = yaml.safe_load(sources_yaml.read_text(encoding="utf-8"))
    source = next(s for s in doc["sources"] if s["name"] == source_name)
    spec = next(t for t in source["tables"] if t["name"] == table)
    return ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in spec["columns"])


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table]).fetchall()[0][0])


def write_resolution(con: duckdb.DuckDBPyConnection, resolved_on: str) -> None:
    """Replace identity.customer_xref with temp table `xref`; append `id_events` to the history."""
    con.execute("begin transaction")
    try:
        con.execute("create schema if not exists identity")
        con.execute(f"create or replace table identity.customer_xref ({table_columns('customer_xref')})")
        con.execute(f"""
            insert into identity.customer_xref
            select source_system, source_entity, role, source_record_id, customer_id, party_type, match_rule,
                   match_probability, is_resolvable, is_anchor, first_seen_date, cast(? as date)
            from xref
        """, [resolved_on])
        con.execute(f"create table if not exists identity.customer_id_history ({table_columns('customer_id_history')})")
        con.execute("""
            insert into identity.customer_id_history
            select cast(? as date), event_type, from_customer_id, to_customer_id, records, now()
            from id_events order by event_type, from_customer_id, to_customer_id
        """, [resolved_on])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def resolution_summary(con: duckdb.DuckDBPyConnection, res: Resolution, duplicate_probability: float) -> dict:
    """What a data engineer looks at first: customers, cluster sizes, records per rule, duplicates
    (plain JSON values: the Spark job returns it through its process boundary)."""
    customers = dict(con.execute(
        "select party_type, count(distinct customer_id) from xref group by 1").fetchall())
    sizes = con.execute("select n, count(*) from (select customer_id, count(*) as n from xref group by 1) group by 1").fetchall()
    buckets = {}
    for lo, hi in SIZE_BUCKETS:
        label = f"{lo}" if lo == hi else (f"{lo}-{hi}" if hi else f"{lo}+")
        buckets[label] = int(sum(c for n, c in sizes if n >= lo and (hi is None or n <= hi)))
    rules = dict(con.execute("select match_rule, count(*) from xref group by 1 order by 2 desc").fetchall())
    total_customers = int(sum(customers.values()))
    # customers holding a record that a record of another customer matches with probability
    # >= duplicate_probability but that the rules kept apart (a mobile alone, an ambiguity, a conflict)
    probable = con.execute(f"""
        select count(distinct customer_id) from (
            select xa.customer_id from scored s
            join named xa on xa.rid = s.a join named xb on xb.rid = s.b
            where s.probability >= {duplicate_probability} and xa.customer_id <> xb.customer_id
            union all
            select xb.customer_id from scored s
            join named xa on xa.rid = s.a join named xb on xb.rid = s.b
            where s.probability >= {duplicate_probability} and xa.customer_id <> xb.customer_id
        )
    """).fetchall()[0][0]
    unresolvable = con.execute("select count(*) from xref where not is_resolvable").fetchall()[0][0]
    return _plain({
        "records": res.records,
        "customers": total_customers,
        "person_customers": int(customers.get("person", 0)),
        "enterprise_customers": int(customers.get("enterprise", 0)),
        "records_per_customer": round(res.records / total_customers, 3) if total_customers else 0.0,
        "unresolvable_records": int(unresolvable),
        "estimated_duplicate_rate": round(probable / total_customers, 5) if total_customers else 0.0,
        "cluster_size_distribution": buckets,
        "records_per_rule": {k: int(v) for k, v in rules.items()},
        "merges": res.counts["ids"]["merges"],
        "splits": res.counts["ids"]["splits"],
        "candidate_pairs": res.counts["candidate_pairs"]["pairs"],
        "training_pairs": res.model.training_pairs,
        "pipeline_counts": res.counts,
        "seconds_per_step": res.seconds,
        "model": res.model.as_metadata(),
    })


def _plain(value):
    """JSON-safe copy (numpy scalars from either engine's fetches become Python numbers)."""
    def default(v):
        return v.item() if hasattr(v, "item") else str(v)
    return json.loads(json.dumps(value, default=default))


def check_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The figures of the asset's checks, read back from the written tables."""
    row = con.execute("""
        select
            (select count(*) from identity.int_person_records) as person_records,
            (select count(*) from identity.customer_xref) as xref_rows,
            (select count(*) from (select distinct source_system, source_record_id from identity.customer_xref)) as xref_keys,
            (select count(*) from (select customer_id from identity.customer_xref
                                    group by 1 having count(distinct party_type) > 1)) as mixed,
            (select count(*) from (select x.customer_id from identity.customer_xref x
                                    join identity.int_person_records r using (source_system, source_record_id)
                                    where r.id_no_kind in ('valid', 'upgraded_15') and r.party_type = 'person'
                                      and coalesce(r.id_type, 'resident_id') = 'resident_id'
                                    group by 1 having count(distinct r.id_no) > 1)) as two_ids,
            (select count(*) from identity.customer_id_history) as history_rows
    """).fetchall()[0]
    names = ("person_records", "xref_rows", "xref_keys", "mixed", "two_ids", "history_rows")
    return {k: int(v) for k, v in zip(names, row)}


def run_resolution(con: duckdb.DuckDBPyConnection, has_previous: bool,
                   write: Callable[[duckdb.DuckDBPyConnection, str], None]) -> dict:
    """The asset's work on one connection (a DuckDB warehouse, or identity/on_spark.py's Spark
    connection): resolve against the previous xref, `write` both tables, summarise and check."""
    cfg = load_config()
    previous = None
    if has_previous:
        con.execute("create or replace temp table previous_xref as select * from identity.customer_xref")
        previous = "previous_xref"
    res = resolve(con, "identity.int_person_records", cfg, previous=previous)
    resolved_on = str(con.execute("select coalesce(max(first_seen_date), current_date) from xref").fetchall()[0][0])
    write(con, resolved_on)
    return {"summary": resolution_summary(con, res, cfg.quality.duplicate_probability),
            "checks": check_counts(con), "resolved_on": resolved_on}


def _has_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return _table_exists(con, schema, table) and con.execute(
        f"select count(*) from {schema}.{table}").fetchall()[0][0] > 0


@dg.multi_asset(
    name="identity_resolution",
    specs=[
        dg.AssetSpec(CUSTOMER_XREF, deps=[PERSON_RECORDS], group_name="identity",
                     description="One row per person-bearing record: its stable customer id, party type, match rule "
                                 "and probability (identity/engine.py)."),
        dg.AssetSpec(CUSTOMER_ID_HISTORY, deps=[PERSON_RECORDS], group_name="identity",
                     description="Append-only: every merge (the older id survives) and split of customer ids, "
                                 "dated with the run's business date."),
    ],
    check_specs=[
        dg.AssetCheckSpec("covers_every_person_record", asset=CUSTOMER_XREF,
                          description="Exactly one xref row per int_person_records row."),
        dg.AssetCheckSpec("one_party_type_per_customer", asset=CUSTOMER_XREF,
                          description="No customer holds both an enterprise and a person."),
        dg.AssetCheckSpec("one_valid_id_per_customer", asset=CUSTOMER_XREF,
                          description="No customer holds two different valid resident IDs (twins stay apart)."),
    ],
    pool=DUCKDB_POOL,
)
def identity_resolution(context: dg.AssetExecutionContext, warehouse: Warehouse):
    """Deterministic rules, Fellegi-Sunter linkage and constrained clustering over
    identity.int_person_records; stable customer ids against the previous xref."""
    start = time.perf_counter()
    if warehouse.engine == "spark":
        # every query of the engine runs on Spark (identity/on_spark.py), in a Spark job's process
        from .on_spark import resolve_with_spark_job

        out = resolve_with_spark_job()
    else:
        with warehouse.workspace() as ws:  # the warehouse file itself
            out = run_resolution(ws.con, _has_rows(ws.con, "identity", "customer_xref"), write_resolution)
            out["engine"] = ws.engine
    summary, counts = out["summary"], out["checks"]
    meta = {k: dg.MetadataValue.json(v) if isinstance(v, dict) else v for k, v in summary.items()}
    meta["engine"] = out["engine"]
    person_records, xref_rows, xref_keys, mixed, two_ids, history_rows = (
        counts[k] for k in ("person_records", "xref_rows", "xref_keys", "mixed", "two_ids", "history_rows"))
    meta["seconds"] = round(time.perf_counter() - start, 2)
    meta["resolved_on"] = out["resolved_on"]
    context.log.info("identity resolution: %s", json.dumps({k: v for k, v in meta.items() if isinstance(v, (int, float, str))}))
    yield dg.MaterializeResult(asset_key=CUSTOMER_XREF, metadata=meta)
    yield dg.MaterializeResult(asset_key=CUSTOMER_ID_HISTORY, metadata={
        "merges_this_run": summary["merges"], "splits_this_run": summary["splits"], "history_rows": history_rows})
    yield dg.AssetCheckResult(check_name="covers_every_person_record", asset_key=CUSTOMER_XREF,
                              passed=person_records == xref_rows == xref_keys,
                              metadata={"person_records": person_records, "xref_rows": xref_rows, "distinct_keys": xref_keys})
    yield dg.AssetCheckResult(check_name="one_party_type_per_customer", asset_key=CUSTOMER_XREF,
                              passed=mixed == 0, metadata={"customers_mixing_party_types": mixed})
    yield dg.AssetCheckResult(check_name="one_valid_id_per_customer", asset_key=CUSTOMER_XREF,
                              passed=two_ids == 0, metadata={"customers_with_two_valid_ids": two_ids})
