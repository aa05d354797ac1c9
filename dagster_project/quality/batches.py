"""What the quality checks validate, read without GX (cheap to import).

- :func:`raw_batch`: the raw Parquet of one entity partition as a pandas DataFrame, shaped like
  the delivered file: text values trimmed (the contract judges values after trimming white
  space) and the columns the file did not deliver removed (the raw layer writes them as NULL;
  the ingest log records which were missing).
- :func:`warehouse_batch`: a read-only query of the warehouse as a DataFrame.
- :func:`delivery_freshness` and :func:`volume_assessment`: the SLA rules of one delivery,
  from the ingest log (sla.yaml `ingest.delivery_due_hours`, `thresholds.volume`).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ..ingest.layout import INGEST_LOG, RAW, part_path, zone_glob
from ..sources.contract import Entity, load_contract
from .thresholds import SlaConfig

WHITESPACE = " \t\r\n\u00a0\u3000"  # the characters the ingest trims (ingest/rules.py)


@dataclass(frozen=True)
class LoggedDelivery:
    """One ingest-log row: the latest load of one entity file of one business date."""

    business_date: date
    status: str
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    arrived_at: datetime | None
    missing_required_columns: tuple[str, ...]
    missing_optional_columns: tuple[str, ...]
    file_error: str | None
    delivery_id: str | None

    @property
    def loaded(self) -> bool:
        return self.status == "loaded"


def _json_list(text: Any) -> tuple[str, ...]:
    if not text:
        return ()
    try:
        return tuple(str(v) for v in json.loads(text))
    except (TypeError, ValueError):
        return ()


def ingest_logs(lake: Path) -> dict[tuple[str, str], dict[date, LoggedDelivery]]:
    """Every logged load of every entity: (system, entity) -> business date -> the load."""
    if not any(Path(lake, INGEST_LOG).glob("*/*/business_date=*/part-*.parquet")):
        return {}
    with duckdb.connect() as con:
        rows = con.execute(
            "select system, entity, business_date, status, rows_read, rows_loaded, rows_quarantined, arrived_at, "
            "missing_required_columns, missing_optional_columns, file_error, delivery_id "
            "from read_parquet(?, union_by_name = true)", [zone_glob(lake, INGEST_LOG)]
        ).fetchall()
    out: dict[tuple[str, str], dict[date, LoggedDelivery]] = {}
    for r in rows:
        arrived = r[7]
        if arrived is not None and arrived.tzinfo is None:
            arrived = arrived.replace(tzinfo=timezone.utc)
        out.setdefault((r[0], r[1]), {})[r[2]] = LoggedDelivery(
            r[2], r[3], int(r[4] or 0), int(r[5] or 0), int(r[6] or 0), arrived,
            _json_list(r[8]), _json_list(r[9]), r[10], r[11])
    return out


def ingest_log(lake: Path, entity: Entity) -> dict[date, LoggedDelivery]:
    """Every logged load of `entity`, by business date."""
    return ingest_logs(lake).get((entity.system, entity.name), {})


def undelivered_columns(entity: Entity, log: LoggedDelivery) -> set[str]:
    """Contract columns the delivered file did not provide (all of them when it was unreadable)."""
    if log.file_error:
        return set(entity.column_names)
    return set(log.missing_required_columns) | set(log.missing_optional_columns)


def raw_batch(lake: Path, entity: Entity, business_date: date, columns: list[str],
              log: LoggedDelivery) -> tuple[Any, set[str]] | None:
    """(DataFrame of the partition shaped as delivered, columns not delivered) or None without a partition."""
    path = part_path(lake, RAW, entity, business_date)
    if not path.exists():
        return None
    absent = undelivered_columns(entity, log)
    names = set(pq.read_schema(path).names)
    wanted = [c for c in columns if c in names and c not in absent]
    table = pq.read_table(path, columns=wanted)
    frame = table.to_pandas()
    for f in table.schema:
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_string_view(f.type):
            frame[f.name] = frame[f.name].str.strip(WHITESPACE)
    return frame, {c for c in columns if c in absent}


def warehouse_batch(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    """A query's rows as a DataFrame; instants (TIMESTAMPTZ) as naive local times like staging's times."""
    frame = con.execute(sql).df()
    for c in frame.columns:
        values = frame[c]
        if str(values.dtype).startswith("datetime64") and getattr(values.dt, "tz", None) is not None:
            frame[c] = values.dt.tz_convert(load_contract().timezone).dt.tz_localize(None)
    return frame


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str] | None:
    """The table's columns, or None when it does not exist."""
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table]
    ).fetchall()
    return [r[0] for r in rows] or None


# --------------------------------------------------------------------------- SLA rules of a delivery


def due_at(business_date: date, due_hours: float, tz: str) -> datetime:
    """When a folder is due: the end of its business date (local midnight) + `due_hours`."""
    end = datetime.combine(business_date + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))
    return end + timedelta(hours=due_hours)


def delivery_freshness(log: LoggedDelivery, due_hours: float, tz: str) -> dict[str, Any] | None:
    """Lag of the folder's arrival after its business date's end; None without an arrival time."""
    if log.arrived_at is None:
        return None
    end = due_at(log.business_date, 0, tz)
    lag_h = (log.arrived_at - end).total_seconds() / 3600
    return {
        "passed": lag_h <= due_hours,
        "delivery_lag_hours": round(lag_h, 2),
        "due_hours": due_hours,
        "arrived_at": log.arrived_at.astimezone(ZoneInfo(tz)).isoformat(),
        "due_at": due_at(log.business_date, due_hours, tz).isoformat(),
    }


def _due_on(entity: Entity, d: date) -> bool:
    return entity.delivered_on_day_of_month is None or d.day == entity.delivered_on_day_of_month


def volume_assessment(entity: Entity, logs: dict[date, LoggedDelivery], business_date: date,
                      sla: SlaConfig) -> dict[str, Any]:
    """Rows read vs the median of the trailing deliveries (sla.yaml thresholds.volume).

    The system's initial load (its first logged date) is never judged nor part of a median; an
    entity delivered on one day of the month is judged on that day against earlier such days.
    `assessed` is False (with a `reason`) when the rule cannot judge the day.
    """
    v = sla.thresholds.volume
    loaded = sorted(d for d, log in logs.items() if log.loaded)
    current = logs.get(business_date)
    if current is None or not current.loaded:
        return {"assessed": False, "reason": "not delivered"}
    if not loaded or business_date == loaded[0]:
        return {"assessed": False, "reason": "initial load"}
    if not _due_on(entity, business_date):
        return {"assessed": False, "reason": "no rows due on this day of the month"}
    history = [logs[d].rows_read for d in loaded if loaded[0] < d < business_date and _due_on(entity, d)]
    history = history[-v.window_days:]
    facts: dict[str, Any] = {"rows_read": current.rows_read, "history_days": len(history)}
    if len(history) < v.min_history_days:
        return {**facts, "assessed": False, "reason": f"{len(history)} earlier deliveries (< {v.min_history_days})"}
    median = float(statistics.median(history))
    facts["trailing_median"] = median
    if median < v.min_median_rows:
        return {**facts, "assessed": False, "reason": f"trailing median {median:g} rows (< {v.min_median_rows:g})"}
    ratio = current.rows_read / median
    return {**facts, "assessed": True, "ratio": round(ratio, 4), "min_ratio": v.min_ratio, "max_ratio": v.max_ratio,
            "passed": v.min_ratio <= ratio <= v.max_ratio,
            "anomaly": "collapse" if ratio < v.min_ratio else "spike" if ratio > v.max_ratio else "none"}
