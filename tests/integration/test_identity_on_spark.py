"""Identity resolution with every query on Spark (spark/connection.py, identity/on_spark.py).

The adapter is checked statement by statement on exact rows (what Spark's SQL has no statement
for: temp tables, insert, update, drop; DuckDB functions Spark spells otherwise), then the whole
engine is run on the same hand-made records (tests/unit/test_identity_rules.py) on DuckDB and on
Spark - a first run, and a second day against the first day's xref (stable ids, a merge) - and
the xref and the id events must be the same row for row. The parity test
(test_spark_parity.py) runs the asset itself on Spark over a simulated landing area.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.identity.config import load_config
from dagster_project.identity.engine import resolve
from dagster_project.spark.connection import SparkConnection, SparkSQLError
from tests.unit.test_identity_rules import (TWIN_A, TWIN_B, background, rec, records_table, ric)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    """The session the identity job runs with (the dbt profile's parameters: time zone,
    timestamp type, Hive catalog), local[2] with a 1 GB driver, its state in a temp folder."""
    from dagster_project.spark.session import build_session, spark_conf

    folder = tmp_path_factory.mktemp("spark")
    with pytest.MonkeyPatch.context() as env:
        for name in ("CDP_SPARK_MASTER", "CDP_SPARK_WAREHOUSE_DIR", "CDP_SPARK_METASTORE_URIS"):
            env.delenv(name, raising=False)
        env.setenv("CDP_SPARK_DIR", str(folder))
        env.setenv("CDP_SPARK_DRIVER_MEMORY", "1g")
        env.setenv("CDP_SPARK_SHUFFLE_PARTITIONS", "2")
        env.setenv("CDP_SPARK_JAVA_OPTIONS", "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m")
        conf = spark_conf()
    session = build_session(conf)
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_statements_spark_has_no_sql_for_are_carried_out(spark, tmp_path):
    con = SparkConnection(spark, str(tmp_path / "scratch"))
    con.execute("set threads = 2")  # a DuckDB setting: nothing on Spark
    con.execute("create or replace temp table t (k integer, v varchar, w double)")
    con.executemany("insert into t values (?, ?, ?)", [(1, "a", 0.5), (2, None, 1.5), (3, "c", None)])
    con.execute("insert into t select k + 10, v, w from t where k = ?", [1])
    con.execute("create or replace temp table keep as select unnest(range(1, 3)) as k")
    con.execute("update t set v = 'z', w = w * 2 where k not in (select k from keep)")
    assert sorted(con.execute("select k, v, w from t").fetchall()) == [
        (1, "a", 0.5), (2, None, 1.5), (3, "z", None), (11, "z", 1.0)]
    # DuckDB functions Spark spells otherwise: whole-string regex, positions that differ, list index
    row = con.execute("""
        select regexp_full_match('11010119800101123X', '[0-9]{17}[0-9X]'),
               regexp_full_match('A11010119800101123X', '[0-9]{17}[0-9X]'),
               hamming('R:110101', 'R:110191'), list_extract([7, 8, 9], 2),
               array_length(list_filter(range(1, 4), lambda i: i > 1)),
               list_has_any(['a', 'b'], ['b', 'c'])
    """).fetchall()[0]
    assert row == (True, False, 1, 8, 2, True)
    got = con.execute("select k, v from t where k < 3 order by k").fetchnumpy()
    assert list(got["k"]) == [1, 2] and list(got["v"]) == ["a", None]
    # a table with a schema is the catalog's, not the connection's: plain Spark SQL
    con.execute("create database if not exists cdp_test")
    con.execute("create table cdp_test.kept as select k, v from t where k = 1")
    assert spark.catalog.tableExists("cdp_test.kept") and "kept" not in con.tables
    assert spark.sql("select * from cdp_test.kept").collect() == [(1, "a")]
    con.execute("drop table keep")
    with pytest.raises(SparkSQLError, match="keep"):  # the error names the statement, in both dialects
        con.execute("select * from keep")
    con.close()
    assert not (tmp_path / "scratch").exists()  # the temp tables' files are gone


def _records(day: date) -> list[dict]:
    """Background people, twins, a family phone and a customer who merges on day 2."""
    home, phone, zhao = "13655556666", "13911112222", ric("32010119900909123")
    rows = background(30) + [
        rec("policy_admin", "T1:insured", name="黄明华", pinyin="HUANG MINGHUA", id_no=TWIN_A, policy="T1",
            role="insured", relation="child"),
        rec("policy_admin", "T2:insured", name="黄明花", pinyin="HUANG MINGHUA", id_no=TWIN_B, policy="T2",
            role="insured", relation="child"),
        rec("claims", "CT1", name="黄明华", pinyin="HUANG MINGHUA", id_no=TWIN_A, mobile=home, policy="T1"),
        rec("claims", "CT3", name="黄明化", pinyin="HUANG MINGHUA", mobile=home, policy="T9"),
        rec("policy_admin", "F1:holder", name="王建国", pinyin="WANG JIANGUO", id_no=ric("11010119700303123"),
            mobile=phone, policy="F1"),
        rec("call_center", "TK1", name="李秀英", pinyin="LI XIUYING", mobile=phone, policy="F1"),
        rec("call_center", "TK2", mobile=phone),
        rec("call_center", "TK3", name="王建国", pinyin="WANG JIANGUO", mobile=phone),
        rec("agent_crm", "X1", name="赵敏", pinyin="ZHAO MIN", mobile="13566667777", first_seen=date(2025, 9, 1)),
        rec("app_events", "Y1", name="赵敏", pinyin="ZHAO MIN", id_no=zhao, mobile="13599990000"),
    ]
    if day > date(2025, 10, 1):
        rows.append(rec("bank_core", "Z1", name="赵敏", pinyin="ZHAO MIN", id_no=zhao, mobile="13566667777",
                        first_seen=day))
    return rows


def _on_duckdb(rows: list[dict], previous: pa.Table | None) -> tuple[pa.Table, list]:
    con = duckdb.connect()
    records_table(con, "person_records", rows)
    if previous is not None:
        con.register("_prev", previous)
        con.execute("create table prev as select * from _prev")
    resolve(con, "person_records", load_config(), previous="prev" if previous is not None else None)
    return con.sql("select * from xref").to_arrow_table(), sorted(con.execute("select * from id_events").fetchall())


def _on_spark(spark, folder, rows: list[dict], previous: pa.Table | None) -> tuple[pa.Table, list]:
    staging = duckdb.connect()
    records_table(staging, "person_records", rows)
    folder.mkdir(parents=True)
    pq.write_table(staging.sql("select * from person_records").to_arrow_table(), folder / "records.parquet")
    spark.read.parquet(str(folder / "records.parquet")).createOrReplaceTempView("person_records")
    if previous is not None:
        pq.write_table(previous, folder / "prev.parquet")
        spark.read.parquet(str(folder / "prev.parquet")).createOrReplaceTempView("prev")
    con = SparkConnection(spark, str(folder / "scratch"))
    try:
        resolve(con, "person_records", load_config(), previous="prev" if previous is not None else None)
        xref = pa.Table.from_pandas(spark.table("xref").toPandas(), preserve_index=False)
        events = sorted(con.execute("select * from id_events").fetchall())
    finally:
        con.close()
    return xref, events


def _rows(xref: pa.Table) -> list[tuple]:
    """The xref rows in a form both engines' values compare equal in (probability to 9 places)."""
    con = duckdb.connect()
    con.register("x", xref)
    return con.execute("""
        select source_system, source_record_id, customer_id, party_type, match_rule,
               round(match_probability, 9), is_resolvable, is_anchor, cast(first_seen_date as date)
        from x order by source_system, source_record_id""").fetchall()


def test_the_engine_gives_the_same_customers_on_spark_as_on_duckdb(spark, tmp_path):
    day1, day2 = _records(date(2025, 10, 1)), _records(date(2025, 10, 2))
    duck1, _ = _on_duckdb(day1, None)
    spark1, _ = _on_spark(spark, tmp_path / "day1", day1, None)
    assert _rows(spark1) == _rows(duck1)
    ids = {r[1]: r[2] for r in _rows(duck1)}
    assert ids["T1:insured"] == ids["CT1"] != ids["T2:insured"]      # twins apart, each with their claim
    assert ids["TK1"] != ids["F1:holder"] and ids["TK2"] != ids["F1:holder"] == ids["TK3"]
    assert ids["X1"] != ids["Y1"]

    # day 2 against day 1's xref: ids kept, the two customers of 赵敏 merge, the older id survives
    duck2, duck_events = _on_duckdb(day2, duck1)
    spark2, spark_events = _on_spark(spark, tmp_path / "day2", day2, spark1)
    assert _rows(spark2) == _rows(duck2)
    assert spark_events == duck_events
    after = {r[1]: r[2] for r in _rows(duck2)}
    assert after["X1"] == after["Y1"] == after["Z1"] == ids["X1"]
    assert ("merge", ids["Y1"], ids["X1"]) in {e[:3] for e in duck_events}
