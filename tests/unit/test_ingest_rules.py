"""The contract -> SQL validation rules, evaluated by DuckDB on single values."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from dagster_project.ingest import rules
from dagster_project.sources.contract import Column, Entity, load_contract


def first_broken(column: Column, value: str | None, sql_type: str = "VARCHAR") -> str | None:
    """The rule a single required value of ``column`` breaks, or None."""
    entity = Entity(system="s", name="e", file="e.csv", format="csv", columns=(column,), key=())
    checks = rules.row_checks(entity, {column.name: sql_type})
    rule, _, message = rules.check_lookup(checks, "c")
    with duckdb.connect() as con:
        literal = "NULL" if value is None else rules.lit(value)
        con.execute(f"CREATE TABLE parsed AS SELECT CAST({literal} AS {sql_type}) AS {rules.ident(column.name)}").fetchall()
        got, text = con.execute(
            f"SELECT {rule}, {message} FROM (SELECT *, {rules.check_case(checks)} AS c FROM parsed)"
        ).fetchall()[0]
    if got is not None:
        assert column.name in text  # every reason names the column
    return got


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        (Column("d", "date", format="%Y%m%d"), "20240229", None),
        (Column("d", "date", format="%Y%m%d"), " 20240229 ", None),
        (Column("d", "date", format="%Y%m%d"), "20240230", "bad_type"),
        (Column("d", "date", format="%Y%m%d"), "2024-02-29", "bad_type"),  # the contract's format only
        (Column("d", "date", format="%Y/%m/%d"), "2024/02/29", None),
        (Column("t", "timestamp", format="%Y%m%d%H%M%S"), "20240229235959", None),
        (Column("t", "timestamp", format="%Y%m%d%H%M%S"), "2024022923595", "bad_type"),
        (Column("t", "timestamp", format="iso8601"), "2024-02-29T23:59:59+08:00", None),
        (Column("t", "timestamp", format="iso8601"), "2024-02-29 23:59:59", None),
        (Column("t", "timestamp", format="iso8601"), "2024-13-45T25:61:00+08:00", "bad_type"),
        (Column("m", "month", format="%Y/%m"), "2024/02", None),
        (Column("m", "month", format="%Y/%m"), "2024/13", "bad_type"),
        (Column("ms", "epoch_ms"), "1709222400000", None),
        (Column("ms", "epoch_ms"), "1709222400000.5", "bad_type"),
        (Column("i", "integer", min=1, max=5), "5", None),
        (Column("i", "integer", min=1, max=5), "6", "bad_type"),
        (Column("i", "integer", min=1, max=5), "1.5", "bad_type"),
        (Column("n", "decimal"), "-12.50", None),
        (Column("n", "decimal"), "1,234.50", "bad_type"),
        (Column("n", "decimal"), "nan", "bad_type"),
        (Column("n", "decimal", thousands_separator=True), "1,234,567.50", None),
        (Column("n", "decimal", thousands_separator=True), "1234.5", None),
        (Column("n", "decimal", thousands_separator=True), "12,34.5", "bad_type"),
        (Column("b", "boolean"), "true", None),
        (Column("b", "boolean"), "maybe", "bad_type"),
        (Column("j", "json"), '{"a": 1}', None),
        (Column("j", "json"), "{oops", "bad_type"),
        (Column("e", "enum", values=("IF", "LA")), "LA", None),
        (Column("e", "enum", values=("IF", "LA")), " LA\u3000", None),  # compared after trimming
        (Column("e", "enum", values=("IF", "LA")), "la", "bad_enum"),
        (Column("s", "string"), "anything at all", None),
        (Column("s", "string"), None, "required_missing"),
        (Column("s", "string"), "", "required_missing"),
        (Column("s", "string"), " \t\u3000", "required_missing"),
        (Column("e", "enum", values=("IF",)), "  ", "required_missing"),  # blank before bad_enum
    ],
)
def test_text_value_rules(column, value, rule):
    assert first_broken(column, value) == rule


def test_optional_columns_are_never_checked():
    assert first_broken(Column("d", "date", format="%Y%m%d", required=False), "garbage") is None
    assert first_broken(Column("s", "string", required=False), None) is None


def test_key_columns_are_required_even_when_marked_optional():
    column = Column("k", "string", required=False)
    entity = Entity(system="s", name="e", file="e.csv", format="csv", columns=(column,), key=("k",))
    assert [c.rule for c in rules.row_checks(entity, {"k": "VARCHAR"})] == ["required_missing"]


@pytest.mark.parametrize(
    ("column", "value", "sql_type", "rule"),
    [
        (Column("d", "date"), "2024-02-29", "DATE", None),
        (Column("d", "date"), "2024-02-29", "VARCHAR", None),  # a Parquet string column is parsed as ISO
        (Column("d", "date"), "not a date", "VARCHAR", "bad_type"),
        (Column("i", "integer", min=1, max=5), "9", "BIGINT", "bad_type"),
        (Column("n", "decimal"), "12.5", "DOUBLE", None),
        (Column("e", "enum", values=("A", "B")), "C", "VARCHAR", "bad_enum"),
        (Column("s", "string"), None, "VARCHAR", "required_missing"),
    ],
)
def test_typed_value_rules(column, value, sql_type, rule):
    assert first_broken(column, value, sql_type) == rule


def test_arrow_types_follow_the_contract():
    contract = load_contract()
    claims = contract.entity("claims", "claims")
    assert rules.arrow_type(claims.column("closed_at"), contract) == pa.timestamp("ms", tz="Asia/Shanghai")
    assert rules.arrow_type(claims.column("incident_date"), contract) == pa.date32()
    assert rules.arrow_type(claims.column("paid_amount"), contract) == pa.float64()
    assert rules.arrow_type(claims.column("fraud_suspected"), contract) == pa.bool_()
    assert rules.arrow_type(claims.column("claimant_id_no"), contract) == pa.string()
    bands = contract.entity("external_data", "risk_bands")
    assert rules.arrow_type(bands.column("income_band"), contract) == pa.int64()


def test_sql_quoting():
    assert rules.ident('we"ird') == '"we""ird"'
    assert rules.lit("it's") == "'it''s'"


def test_compact_formats_need_their_exact_width():
    column = Column("d", "date", format="%Y%m%d")
    assert first_broken(column, "2024011") == "bad_type"
    assert first_broken(column, "202401015") == "bad_type"
    assert first_broken(Column("d", "date", format="%Y-%m-%d"), "2024-1-5") is None  # unambiguous
