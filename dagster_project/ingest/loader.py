"""Ingest one entity file of one delivery into the raw lake, quarantine and ingest log.

:func:`ingest_entity_partition` is the unit a Dagster partition runs: pure Python, one
in-memory DuckDB connection per call (so different entities and dates can load in parallel
processes), never the warehouse file. Everything about columns comes from the contract.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest import rules
from dagster_project.ingest.landing import Delivery, find_delivery, scan_landing
from dagster_project.ingest.layout import (
    INGEST_LOG,
    QUARANTINE,
    RAW,
    PartitionStage,
    ingest_log_glob,
    quarantine_glob,
    raw_glob,
)
from dagster_project.ingest.readers import DETAIL, RAW as RAW_RECORD, ROW, ReadOutcome, read_delivered_file, run
from dagster_project.ingest.rules import Check, ident, lit
from dagster_project.sources.contract import LINEAGE_COLUMNS, Contract, Entity, load_contract

__all__ = [
    "Delivery",
    "LoadResult",
    "ingest_entity_partition",
    "ingest_log_glob",
    "quarantine_glob",
    "raw_glob",
    "scan_landing",
]

LOADED = "loaded"
NOT_DELIVERED = "not_delivered"
ARRIVING = "arriving"

QUARANTINE_COLUMNS = (
    "system", "entity", "_source_file", "_business_date", "_row_number", "rule", "reason",
    "column_name", "raw_record", "_loaded_at", "_delivery_id",
)
INGEST_LOG_COLUMNS = {  # column -> DuckDB type
    "system": "VARCHAR",
    "entity": "VARCHAR",
    "business_date": "DATE",
    "source_file": "VARCHAR",
    "delivery_id": "VARCHAR",
    "status": "VARCHAR",
    "rows_read": "BIGINT",
    "rows_loaded": "BIGINT",
    "rows_quarantined": "BIGINT",
    "rows_suppressed": "BIGINT",  # rows of erased persons, not loaded (privacy/erasure.py)
    "quarantine_by_rule": "VARCHAR",  # JSON object rule -> count
    "extra_columns": "VARCHAR",  # JSON list
    "missing_required_columns": "VARCHAR",  # JSON list
    "missing_optional_columns": "VARCHAR",  # JSON list
    "file_error": "VARCHAR",
    "arrived_at": "TIMESTAMPTZ",
    "loaded_at": "TIMESTAMPTZ",
    "duration_s": "DOUBLE",
}
_LINEAGE_ARROW_TYPES = {  # as DuckDB writes the lineage of text deliveries
    "_source_file": pa.string(),
    "_business_date": pa.date32(),
    "_row_number": pa.int64(),
    "_loaded_at": pa.timestamp("us", tz="UTC"),
    "_delivery_id": pa.string(),
}


@dataclass
class LoadResult:
    system: str
    entity: str
    business_date: date
    status: str  # loaded | not_delivered | arriving
    delivery_id: str | None = None
    arrived_at: datetime | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_suppressed: int = 0
    quarantine_by_rule: dict[str, int] = field(default_factory=dict)
    extra_columns: list[str] = field(default_factory=list)
    missing_optional_columns: list[str] = field(default_factory=list)
    missing_required_columns: list[str] = field(default_factory=list)
    file_error: str | None = None
    source_file: str | None = None
    duration_s: float = 0.0
    loaded_at: datetime | None = None

    @property
    def file_failed(self) -> bool:
        """The whole file was quarantined (unreadable, or a required column is missing)."""
        return bool(self.file_error or self.missing_required_columns)

    @property
    def quarantine_rate(self) -> float:
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0

    def to_metadata(self) -> dict[str, object]:
        """Plain values for Dagster asset metadata."""
        return {
            "system": self.system,
            "entity": self.entity,
            "business_date": self.business_date.isoformat(),
            "status": self.status,
            "delivery_id": self.delivery_id,
            "arrived_at": self.arrived_at.isoformat() if self.arrived_at else None,
            "loaded_at": self.loaded_at.isoformat() if self.loaded_at else None,
            "source_file": self.source_file,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "rows_suppressed": self.rows_suppressed,
            "quarantine_rate": round(self.quarantine_rate, 6),
            "quarantine_by_rule": dict(self.quarantine_by_rule),
            "extra_columns": list(self.extra_columns),
            "missing_optional_columns": list(self.missing_optional_columns),
            "missing_required_columns": list(self.missing_required_columns),
            "file_error": self.file_error,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class _Plan:
    """What one delivered file maps to: present, missing and extra columns, and the checks."""

    entity: Entity
    present: dict[str, str]  # contract column -> DuckDB type in `parsed`
    extras: list[str]
    missing_required: list[str]
    missing_optional: list[str]
    checks: list[Check]
    file_check: Check | None  # set: every record of the file breaks it

    @property
    def case(self) -> str:
        return f"{len(self.checks) - 1}" if self.file_check else rules.check_case(self.checks)

    def extra_output_name(self, name: str) -> str:
        """Drift columns keep their name unless it collides with a lineage column."""
        return f"{name}__delivered" if name in LINEAGE_COLUMNS else name


def _plan(con: duckdb.DuckDBPyConnection, entity: Entity, outcome: ReadOutcome) -> _Plan:
    types = {name: dtype for name, dtype in run(con, "SELECT column_name, column_type FROM (DESCRIBE parsed)")}
    delivered = outcome.delivered_columns
    contract_names = entity.column_names
    if delivered is None:  # no columns to judge (empty or unreadable file)
        present, missing = {}, []
    else:
        present = {c: types[c] for c in contract_names if c in delivered}
        missing = [c for c in contract_names if c not in delivered]
    missing_required = [c for c in missing if rules.is_required(entity, entity.column(c))]
    missing_optional = [c for c in missing if c not in missing_required]
    extras = [c for c in (delivered or []) if c not in contract_names]
    checks = rules.row_checks(entity, present)
    file_check = None
    if outcome.file_error:
        file_check = Check(
            rules.UNREADABLE_FILE, None, "true",
            lit(f"file unreadable ({outcome.file_error}); the whole file is quarantined"),
        )
    elif missing_required and outcome.rows_read:
        file_check = Check(
            rules.MISSING_REQUIRED_COLUMN, ", ".join(missing_required), "true",
            lit(f"file lacks required column(s) {', '.join(missing_required)}; the whole file is quarantined"),
        )
    if file_check:
        checks = [*checks, file_check]  # the case then always yields this last index
    return _Plan(entity, present, extras, missing_required, missing_optional, checks, file_check)


def _lineage_sql(source_file: str, business_date: date, loaded_at: datetime, delivery_id: str) -> dict[str, str]:
    sql = {
        "_source_file": lit(source_file),
        "_business_date": f"DATE '{business_date.isoformat()}'",
        "_row_number": f"CAST({ROW} AS BIGINT)",
        "_loaded_at": f"TIMESTAMPTZ '{loaded_at.isoformat()}'",
        "_delivery_id": lit(delivery_id),
    }
    return {name: sql[name] for name in LINEAGE_COLUMNS}  # contract order; KeyError if it grows


def _copy(con: duckdb.DuckDBPyConnection, query: str, target: Path) -> int:
    return int(run(con, f"COPY ({query}) TO {lit(str(target))} (FORMAT parquet, COMPRESSION zstd)")[0][0])


def _flag_bad_rows(con: duckdb.DuckDBPyConnection, plan: _Plan) -> int:
    """One pass of the checks over `parsed`: ``__bad`` (row, index of the first broken check)."""
    run(
        con,
        f"""CREATE TABLE __bad AS SELECT {ROW}, __check
        FROM (SELECT {ROW}, {plan.case} AS __check FROM parsed) WHERE __check IS NOT NULL""",
    )
    return int(run(con, "SELECT count(*) FROM __bad")[0][0])


def _flag_suppressed(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> int:
    """``__suppressed``: rows (not otherwise quarantined) of persons in the erasure register."""
    from dagster_project.privacy.erasure import load_register, row_predicate
    from dagster_project.settings import token_salt

    run(con, f"CREATE TABLE __suppressed ({ROW} BIGINT)")
    if not load_register(con, lake_dir):
        return 0
    columns = {name: dtype for name, dtype in run(con, "SELECT column_name, column_type FROM (DESCRIBE parsed)")}
    pred = row_predicate(columns, token_salt())
    if pred is None:
        return 0
    run(con, f"INSERT INTO __suppressed SELECT {ROW} FROM parsed WHERE {pred} AND {ROW} NOT IN (SELECT {ROW} FROM __bad)")
    return int(run(con, "SELECT count(*) FROM __suppressed")[0][0])


def _raw_select(plan: _Plan, lineage: dict[str, str], bad_rows: int, ordered: bool, suppressed: int = 0) -> str:
    """SQL of the raw rows: contract columns in order (absent ones NULL), drift columns, lineage."""
    columns = [ident(c) if c in plan.present else f"CAST(NULL AS VARCHAR) AS {ident(c)}" for c in plan.entity.column_names]
    columns += [f"{ident(x)} AS {ident(plan.extra_output_name(x))}" for x in plan.extras]
    columns += [f"{sql} AS {name}" for name, sql in lineage.items()]
    where = " WHERE false" if plan.file_check else f" WHERE {ROW} NOT IN (SELECT {ROW} FROM __bad)" if bad_rows else ""
    if suppressed and not plan.file_check:
        where += (" AND" if where else " WHERE") + f" {ROW} NOT IN (SELECT {ROW} FROM __suppressed)"
    # DuckDB keeps the scan order of an unfiltered scan; once rows are filtered out it may not
    order = "" if ordered and not (bad_rows or suppressed) else f" ORDER BY {ROW}"
    return f"SELECT {', '.join(columns)} FROM parsed{where}{order}"


def _raw_arrow_schema(plan: _Plan, delivered: pa.Schema | None, contract: Contract) -> pa.Schema:
    """Parquet deliveries keep their Arrow types; absent columns get the contract's Arrow type."""
    fields = [
        delivered.field(c.name) if c.name in plan.present else pa.field(c.name, rules.arrow_type(c, contract))
        for c in plan.entity.columns
    ]
    fields += [delivered.field(x).with_name(plan.extra_output_name(x)) for x in plan.extras]
    return pa.schema(fields + [pa.field(name, _LINEAGE_ARROW_TYPES[name]) for name in LINEAGE_COLUMNS])


def _write_raw(con, plan: _Plan, outcome: ReadOutcome, contract: Contract, lineage: dict[str, str],
               bad_rows: int, target: Path, suppressed: int = 0) -> None:
    query = _raw_select(plan, lineage, bad_rows, outcome.ordered, suppressed)
    if plan.entity.format != "parquet":  # text formats: every value VARCHAR, straight from DuckDB
        _copy(con, query, target)
        return
    table = con.sql(query).to_arrow_table()
    try:
        table = table.cast(_raw_arrow_schema(plan, outcome.arrow_schema, contract))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # a delivered type DuckDB cannot hand back as it was: keep DuckDB's nearest Arrow type
    pq.write_table(table, target, compression="zstd")


def _write_quarantine(con, plan: _Plan, outcome: ReadOutcome, lineage: dict[str, str], target: Path) -> None:
    rule, column, message = rules.check_lookup(plan.checks, "__check")
    if plan.file_check:
        bad_rule, bad_column, bad_message = lit(plan.file_check.rule), (
            lit(plan.file_check.column) if plan.file_check.column else "CAST(NULL AS VARCHAR)"
        ), plan.file_check.message
    else:
        bad_rule, bad_column, bad_message = lit(rules.MALFORMED_ROW), "CAST(NULL AS VARCHAR)", f"'malformed row: ' || {DETAIL}"
    entity = plan.entity
    rows = f"""
        SELECT {ROW}, {rule} AS rule, {column} AS column_name, {message} AS message,
               {outcome.raw_record_sql} AS raw_record
        FROM parsed JOIN __bad USING ({ROW})
        UNION ALL
        SELECT {ROW}, {bad_rule}, {bad_column}, {bad_message}, {RAW_RECORD} FROM malformed"""
    values = {
        "system": lit(entity.system),
        "entity": lit(entity.name),
        **lineage,
        "rule": "rule",
        "reason": f"{lineage['_source_file']} || ' row ' || {ROW} || ': ' || message || ' [' || rule || ']'",
        "column_name": "column_name",
        "raw_record": "CAST(raw_record AS VARCHAR)",
    }
    select = ", ".join(f"{values[name]} AS {name}" for name in QUARANTINE_COLUMNS)
    _copy(con, f"SELECT {select} FROM ({rows}) ORDER BY {ROW}", target)


def _sql_value(value: object, sql_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if isinstance(value, (datetime, date)):
        return f"CAST({lit(value.isoformat())} AS {sql_type})"
    if isinstance(value, (int, float)):
        return f"CAST({value!r} AS {sql_type})"
    return f"CAST({lit(str(value))} AS {sql_type})"


def _write_ingest_log(con: duckdb.DuckDBPyConnection, result: LoadResult, target: Path) -> None:
    row = {
        "system": result.system,
        "entity": result.entity,
        "business_date": result.business_date,
        "source_file": result.source_file,
        "delivery_id": result.delivery_id,
        "status": result.status,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_quarantined": result.rows_quarantined,
        "rows_suppressed": result.rows_suppressed,
        "quarantine_by_rule": json.dumps(result.quarantine_by_rule, sort_keys=True),
        "extra_columns": json.dumps(result.extra_columns, ensure_ascii=False),
        "missing_required_columns": json.dumps(result.missing_required_columns),
        "missing_optional_columns": json.dumps(result.missing_optional_columns),
        "file_error": result.file_error,
        "arrived_at": result.arrived_at,
        "loaded_at": result.loaded_at,
        "duration_s": result.duration_s,
    }
    values = ", ".join(f"{_sql_value(row[name], sql_type)} AS {name}" for name, sql_type in INGEST_LOG_COLUMNS.items())
    _copy(con, f"SELECT {values}", target)


def _reconcile(raw_file: Path, quarantine_file: Path, con: duckdb.DuckDBPyConnection) -> tuple[int, dict[str, int]]:
    """(rows written to raw, quarantined rows by rule) as read back from the staged files."""
    loaded = pq.ParquetFile(raw_file).metadata.num_rows
    by_rule = dict(run(con, f"SELECT rule, count(*) FROM read_parquet({lit(str(quarantine_file))}) GROUP BY rule ORDER BY rule"))
    return loaded, {str(k): int(v) for k, v in by_rule.items()}


def ingest_entity_partition(
    entity: Entity,
    business_date: date,
    landing_dir: Path,
    lake_dir: Path,
    *,
    contract: Contract | None = None,
) -> LoadResult:
    """Load ``entity``'s file of ``business_date`` into the lake, replacing that partition.

    Data problems never raise: they are quarantined (row or whole file) and reported in the
    result. A date whose folder is absent (``not_delivered``) or lacks ``_SUCCESS``
    (``arriving``) writes and removes nothing.
    """
    started = time.perf_counter()
    contract = contract or load_contract()
    landing_dir, lake_dir = Path(landing_dir), Path(lake_dir)
    result = LoadResult(entity.system, entity.name, business_date, NOT_DELIVERED)
    delivery = find_delivery(landing_dir, entity.system, business_date, contract)
    if delivery is None:
        return result
    result.delivery_id, result.arrived_at = delivery.delivery_id, delivery.arrived_at
    if not delivery.complete:
        result.status = ARRIVING
        return result

    result.status = LOADED
    result.source_file = f"{entity.system}/{business_date.isoformat()}/{entity.file}"
    result.loaded_at = datetime.now(timezone.utc)
    with PartitionStage(lake_dir, entity, business_date) as stage, duckdb.connect() as con:
        run(con, f"SET temp_directory = {lit(str(stage.work_dir))}")
        run(con, f"SET TimeZone = {lit(contract.timezone)}")
        outcome = read_delivered_file(con, entity, delivery.path / entity.file, stage.work_dir)
        plan = _plan(con, entity, outcome)
        bad_rows = _flag_bad_rows(con, plan)
        suppressed = 0 if plan.file_check else _flag_suppressed(con, lake_dir)
        lineage = _lineage_sql(result.source_file, business_date, result.loaded_at, delivery.delivery_id)
        _write_raw(con, plan, outcome, contract, lineage, bad_rows, stage.staged_file(RAW), suppressed)
        _write_quarantine(con, plan, outcome, lineage, stage.staged_file(QUARANTINE))
        loaded, by_rule = _reconcile(stage.staged_file(RAW), stage.staged_file(QUARANTINE), con)

        result.rows_read = outcome.rows_read
        result.rows_loaded = loaded
        result.rows_quarantined = sum(by_rule.values())
        result.rows_suppressed = suppressed
        result.quarantine_by_rule = by_rule
        result.extra_columns = plan.extras
        result.missing_required_columns = plan.missing_required
        result.missing_optional_columns = plan.missing_optional
        result.file_error = outcome.file_error
        if result.rows_read != result.rows_loaded + result.rows_quarantined + result.rows_suppressed:
            raise AssertionError(
                f"{result.source_file}: read {result.rows_read} != loaded {result.rows_loaded} "
                f"+ quarantined {result.rows_quarantined} + suppressed (erased persons) {result.rows_suppressed}"
            )
        result.duration_s = time.perf_counter() - started
        _write_ingest_log(con, result, stage.staged_file(INGEST_LOG))
        stage.commit()
    result.duration_s = time.perf_counter() - started
    return result
