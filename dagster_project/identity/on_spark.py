"""Identity resolution on Spark (CDP_ENGINE=spark): the same engine, every query on Spark.

    identity_resolution (assets.py)  ->  resolve_with_spark_job()  ->  a Spark job's process:
        resolve_on_spark(spark)  =  run_resolution(SparkConnection(spark), ...)   (assets.py)

The engine (engine.py and its steps) is written once, as DuckDB SQL over a DuckDB connection.
On Spark it gets `spark.connection.SparkConnection`, which writes each statement as Spark SQL
(sqlglot) and keeps the engine's temp tables as Parquet under a scratch folder, so the joins,
windows and aggregates over the person records run on Spark's executors. What the engine takes
into Python on either engine - the candidate edges between units that the constrained
union-find walks, the few records each name pass moves - comes to the driver. The model is
trained on the engine that runs it (m/u from the ID-labelled pairs Spark finds), and the
deterministic rules are the same SQL on both, so both engines give the same customer ids (the
parity test compares the xref row for row).

The job writes both identity tables into Spark's metastore: `customer_id_history` first, adding
only the events not yet recorded for the business date (a run repeated after a failure records
nothing twice), then `customer_xref` replaced as a whole. Spark has no transaction over the two;
the history write is the idempotent one.

On a cluster, set CDP_SPARK_SCRATCH to a folder every executor can read (`hdfs:///tmp/cdp`,
`s3a://bucket/tmp/cdp`); by default the job uses a local folder, which only local mode can.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from .assets import run_resolution

SCHEMA = "identity"
# the tables this job writes into Spark's metastore (the erasure purge must read their schema)
WRITES = (f"{SCHEMA}.customer_xref", f"{SCHEMA}.customer_id_history")


def write_resolution_on_spark(con, resolved_on: str) -> None:
    """identity.customer_id_history += this run's new events; identity.customer_xref = `xref`.
    Both tables are dbt's: its on-run-start hook (`create_identity_tables`) creates them, typed
    from the source YAML, before the dbt run that builds int_person_records."""
    spark = con.spark
    missing = [t for t in WRITES if not spark.catalog.tableExists(t)]
    if missing:
        raise RuntimeError(f"{', '.join(missing)} not in Spark's metastore: dbt's on-run-start hook "
                           "create_identity_tables creates them; run dbt (cdp build) before identity resolution")
    con.execute("""
        create or replace temp table _new_events as
        select cast(? as date) as event_date, e.event_type, e.from_customer_id, e.to_customer_id,
               cast(e.records as bigint) as records, now() as recorded_at
        from id_events e
        where not exists (select 1 from identity.customer_id_history h
                          where h.event_date = cast(? as date) and h.event_type = e.event_type
                            and h.from_customer_id = e.from_customer_id and h.to_customer_id = e.to_customer_id)
    """, [resolved_on, resolved_on])
    spark.sql(f"insert into `{SCHEMA}`.`customer_id_history` select * from _new_events")
    con.execute(f"""
        create or replace temp table _xref_out as
        select source_system, source_entity, role, source_record_id, customer_id, party_type, match_rule,
               match_probability, is_resolvable, is_anchor, first_seen_date, cast('{resolved_on}' as date) as resolved_on
        from xref
    """)
    spark.sql(f"insert overwrite table `{SCHEMA}`.`customer_xref` select * from _xref_out")


def resolve_on_spark(spark, scratch: str) -> dict:
    """Run the asset's work with every query on `spark` (called inside a Spark job's process)."""
    from ..spark.connection import SparkConnection

    con = SparkConnection(spark, scratch)
    try:
        table = f"{SCHEMA}.customer_xref"
        has_previous = spark.catalog.tableExists(table) and bool(spark.table(table).limit(1).count())
        out = run_resolution(con, has_previous, write_resolution_on_spark)
    finally:
        con.close()
    out["engine"] = "spark"
    return out


def resolve_with_spark_job() -> dict:
    """The asset's side: one Spark job process (Spark's Derby metastore admits one JVM at a time)."""
    from ..resources import spark_scratch
    from ..spark.client import run_spark_job

    tmp = Path(tempfile.mkdtemp(prefix="cdp-identity-", dir=str(spark_scratch())))
    shared = os.environ.get("CDP_SPARK_SCRATCH")
    scratch = f"{shared.rstrip('/')}/identity-{uuid.uuid4().hex[:12]}" if shared else str(tmp / "tables")
    try:
        result = run_spark_job({"identity": {"scratch": scratch}, "dir": str(tmp)},
                               log_path=tmp.parent / "spark-identity.log")
        return result["identity"]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
