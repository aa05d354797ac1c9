"""Contract-driven rendering of record tables into delivered bytes.

File names, formats, encodings, delimiters, column order and column formats all come from the
contract `Entity`; nothing here names a system's columns. Text formats are rendered in two
steps so defects can be injected at an exact row: DuckDB turns every column into its delivered
text *fragment* (one string column per contract column, for the whole entity at once), then a
folder's rows are joined into lines with pyarrow and written as one buffer.
"""

from __future__ import annotations

import io
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.sources.contract import Column, Contract, Entity

from .calendar import UTC_OFFSET_MS

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S"
ISO_OFFSET = "+08:00"
DEFAULT_DATE_FORMAT = "%Y-%m-%d"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def arrow_type(col: Column, tz: str) -> pa.DataType:
    """The Parquet (and in-memory logical) type of a contract column."""
    return {
        "date": pa.date32(),
        "month": pa.date32(),
        "timestamp": pa.timestamp("ms", tz=tz),
        "epoch_ms": pa.int64(),
        "integer": pa.int64(),
        "decimal": pa.float64(),
        "boolean": pa.bool_(),
    }.get(col.type, pa.string())


def text_fragment_sql(entity: Entity, col: Column, thousands_flag: str | None) -> str:
    """SQL rendering one column as delivered text (CSV value or JSON value text)."""
    c = _q(col.name)
    if col.type in ("date", "month", "timestamp"):
        fmt = col.format
        if col.type == "timestamp" and (fmt is None or fmt == "iso8601"):
            text = f"strftime({c}, '{ISO_FORMAT}') || '{ISO_OFFSET}'"
        else:
            text = f"strftime({c}, '{fmt or DEFAULT_DATE_FORMAT}')"
        typed_json = False
    elif col.type == "epoch_ms":
        text = f"CAST(epoch_ms({c}) - {UTC_OFFSET_MS} AS VARCHAR)"
        typed_json = True
    elif col.type == "decimal" and col.thousands_separator and thousands_flag:
        text = f"CASE WHEN {thousands_flag} THEN format('{{:,.2f}}', {c}) ELSE printf('%.2f', {c}) END"
        typed_json = False
    elif col.type in ("integer", "decimal", "boolean"):
        text = f"CAST({c} AS VARCHAR)"
        typed_json = True
    else:
        text = f"CAST({c} AS VARCHAR)"
        typed_json = col.type == "json"
    if entity.format == "csv":
        d = entity.delimiter
        return (f"CASE WHEN {c} IS NULL THEN '' WHEN regexp_matches({text}, '[{_re(d)}\"\\n\\r]') "
                f"THEN '\"' || replace({text}, '\"', '\"\"') || '\"' ELSE {text} END")
    if typed_json:
        return f"coalesce({text}, 'null')"
    return f"coalesce(to_json({text}), 'null')"


def _re(ch: str) -> str:
    return "\\" + ch if ch in "|.^$*+?()[]{}\\" else ch


def render_fragments(con: duckdb.DuckDBPyConnection, entity: Entity, table: pa.Table,
                     thousands: np.ndarray | None) -> pa.Table:
    """The contract columns of `table` as delivered text fragments (text formats)."""
    data = table.select(entity.column_names)
    flag = None
    if thousands is not None:
        data = data.append_column("__thousands", pa.array(thousands))
        flag = "__thousands"
    con.register("_entity_rows", data)
    select = ", ".join(f"{text_fragment_sql(entity, col, flag)} AS {_q(col.name)}" for col in entity.columns)
    out = con.sql(f"SELECT {select} FROM _entity_rows").to_arrow_table()
    con.unregister("_entity_rows")
    return out


def json_literal(value: str | None) -> str:
    import json

    return "null" if value is None else json.dumps(value, ensure_ascii=False)


def csv_literal(value: str | None, delimiter: str) -> str:
    if value is None:
        return ""
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def join_lines(entity: Entity, fragments: pa.Table, extra: list[str]) -> pa.Array:
    """Fragments -> one delivered line per row (no line terminator)."""
    names = entity.column_names + extra
    if len(fragments) == 0:
        return pa.array([], pa.string())
    cols = [fragments.column(n).combine_chunks() for n in names]
    if entity.format == "csv":
        return pc.binary_join_element_wise(*cols, entity.delimiter)
    parts: list = []
    for i, (name, col) in enumerate(zip(names, cols)):
        parts.append(pa.scalar(("{" if i == 0 else ",") + json_literal(name) + ":"))
        parts.append(col)
    parts.append(pa.scalar("}"))
    return pc.binary_join_element_wise(*parts, "")


def header_line(entity: Entity, extra: list[str]) -> str:
    return entity.delimiter.join(entity.column_names + extra)


def lines_to_bytes(entity: Entity, lines: pa.Array, extra: list[str]) -> bytes:
    """Serialise lines in the entity's container: CSV (header, encoding), JSONL or one JSON array."""
    if entity.format == "json_array":
        if len(lines) == 0:
            return b"[]"
        body = pc.binary_join_element_wise(lines, pa.scalar(",\n"), "")
        raw = _concat(body)
        return b"[\n" + raw[:-2] + b"\n]\n"
    body = _concat(pc.binary_join_element_wise(lines, pa.scalar("\n"), "")) if len(lines) else b""
    if entity.format == "csv":
        text = (header_line(entity, extra) + "\n").encode("utf-8") + body
        if entity.encoding.lower().replace("-", "") != "utf8":
            return text.decode("utf-8").encode(entity.encoding)
        return text
    return body


def _concat(arr: pa.Array) -> bytes:
    """The concatenated UTF-8 bytes of a string array (its data buffer, no copy of each value)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int64 if pa.types.is_large_string(arr.type) else np.int32)
    offsets = offsets[arr.offset: arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0]: offsets[-1]]


def parquet_table(entity: Entity, table: pa.Table, tz: str) -> pa.Table:
    """The contract columns in their Parquet types (local times become tz-aware instants)."""
    arrays, fields = [], []
    for col in entity.columns:
        arr = table.column(col.name).combine_chunks()
        typ = arrow_type(col, tz)
        if col.type == "timestamp":
            ms = pc.cast(arr, pa.int64())
            arr = pc.cast(pc.subtract(ms, UTC_OFFSET_MS), pa.timestamp("ms", tz=tz))
        elif col.type == "epoch_ms":
            arr = pc.subtract(pc.cast(arr, pa.int64()), UTC_OFFSET_MS)
        else:
            arr = pc.cast(arr, typ)
        arrays.append(arr)
        fields.append(pa.field(col.name, typ, nullable=True))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def contract_schema(contract: Contract, entity: Entity) -> pa.Schema:
    return pa.schema([pa.field(c.name, arrow_type(c, contract.timezone)) for c in entity.columns])
