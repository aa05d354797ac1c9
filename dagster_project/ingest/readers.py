"""Vectorised readers: one delivered file -> DuckDB relations ``parsed`` and ``malformed``.

Every reader leaves in the connection

* ``parsed``: one row per record that could be parsed, with ``__cdp_row`` (1-based data row in
  the file; JSON array: element index + 1) and one column per delivered field (VARCHAR holding
  the raw value for text formats; the delivered type for Parquet);
* ``malformed``: ``(__cdp_row, __cdp_raw, __cdp_detail)`` for records that could not be parsed,

and returns a :class:`ReadOutcome` saying which columns the file carries and how many records
it holds. No reader loops over records in Python: CSV and JSON lines go through DuckDB's
``read_csv`` with ``store_rejects`` (line numbers of malformed lines), JSON through DuckDB's
JSON functions, Parquet through pyarrow; non-UTF-8 text is transcoded with Arrow first.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.ingest.rules import ident, lit
from dagster_project.sources.contract import Entity

ROW = "__cdp_row"
RAW = "__cdp_raw"
DETAIL = "__cdp_detail"
_CHUNK = 16 << 20
_MAX_INLINE_SHIFTS = 64
# JSON lines are read as one VARCHAR column: this delimiter cannot occur in valid JSON (control
# characters must be escaped there), so a line containing it is malformed anyway.
_NO_DELIMITER = "\x1e\x1f"


@dataclass
class ReadOutcome:
    delivered_columns: list[str] | None  # None: the file shows no columns (empty or unreadable)
    rows_read: int
    raw_record_sql: str  # SQL over `parsed`: the record as text for the quarantine
    ordered: bool = True  # `parsed` scans in file order
    file_error: str | None = None  # set: the whole file is quarantined as unreadable_file
    arrow_schema: pa.Schema | None = None  # Parquet: the delivered Arrow schema


def run(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    return run(con, sql)[0][0]


def _create_malformed(con: duckdb.DuckDBPyConnection) -> None:
    run(con, f"CREATE TABLE malformed ({ROW} BIGINT, {RAW} VARCHAR, {DETAIL} VARCHAR)")


def _empty(con: duckdb.DuckDBPyConnection, file_error: str | None = None) -> ReadOutcome:
    run(con, f"CREATE TABLE parsed ({ROW} BIGINT)")
    _create_malformed(con)
    return ReadOutcome(None, 0, "CAST(NULL AS VARCHAR)", file_error=file_error)


def _struct_json(columns: list[str]) -> str:
    if not columns:
        return "CAST(NULL AS VARCHAR)"
    fields = ", ".join(f"{ident(c)} := {ident(c)}" for c in columns)
    return f"CAST(to_json(struct_pack({fields})) AS VARCHAR)"


# --- text transport: encoding and DuckDB's CSV scanner ----------------------------------------


def utf8_file(path: Path, encoding: str, work_dir: Path) -> tuple[Path, str | None]:
    """A UTF-8 version of a text file, and an error when it is not valid in its encoding.

    UTF-8 files are used as they are: DuckDB validates them while scanning (``INVALID
    ENCODING`` rejects). Others are transcoded with Arrow; when that fails the file is decoded
    with replacement characters so its records can still be counted and quarantined.
    """
    if encoding.replace("-", "").replace("_", "").lower() == "utf8":
        return path, None
    out = work_dir / f"{path.name}.utf8"
    try:
        with pa.OSFile(str(path)) as raw, pa.transcoding_input_stream(raw, encoding, "utf-8") as src, open(
            out, "wb"
        ) as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        return out, None
    except UnicodeDecodeError as exc:
        with open(path, encoding=encoding, errors="replace", newline="") as src, open(
            out, "w", encoding="utf-8", newline=""
        ) as dst:
            while chunk := src.read(_CHUNK):
                dst.write(chunk)
        return out, f"not valid {encoding}: {exc.reason} ({exc.object[exc.start:exc.end]!r})"


def _scan_text(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], options: str, header_lines: int,
               name: str = "__scan") -> tuple[str, bool, str | None]:
    """Scan a UTF-8 text file with DuckDB's CSV reader into the table ``name`` (records in file
    order); fill ``malformed`` with the records it rejects; number every record.

    DuckDB numbers rejected records (``line``, header included); accepted ones come in file
    order without a number. The k-th accepted record's number is k plus the count of rejected
    records before it: with ``g_j = number_j - j`` (the count of accepted records before the
    j-th rejected one), the largest j with ``g_j <= k - 1``. A CASE over the g_j finds it for a
    few rejects (the scan stays streaming and in order); an ASOF join (then a sort) for many.

    Returns (SQL of the numbered records, whether it scans in file order, encoding error).
    """
    types = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in columns) + "}"
    rejects = f"{name}_rejects"
    run(
        con,
        f"CREATE TABLE {name} AS SELECT * FROM read_csv({lit(str(path))}, columns={types}, {options}, "
        f"auto_detect=false, store_rejects=true, rejects_table='{rejects}', rejects_scan='{name}_reject_scans', "
        "rejects_limit=0)",
    )
    _create_malformed(con)
    run(
        con,
        f"""INSERT INTO malformed
        SELECT line - {header_lines}, any_value(csv_line),
               string_agg(DISTINCT CAST(error_type AS VARCHAR) || ': ' || error_message, '; ')
        FROM {rejects} GROUP BY line""",
    )
    bad_encoding = scalar(con, f"SELECT min(line) FROM {rejects} WHERE CAST(error_type AS VARCHAR) = 'INVALID ENCODING'")
    encoding_error = None if bad_encoding is None else f"not valid UTF-8 (record at line {bad_encoding})"
    rejected = int(scalar(con, "SELECT count(*) FROM malformed"))
    if rejected == 0:
        return f"SELECT rowid + 1 AS {ROW}, * FROM {name}", True, encoding_error
    shifts = run(
        con,
        f"""SELECT g, max(k) FROM (
            SELECT {ROW} - row_number() OVER (ORDER BY {ROW}) AS g, row_number() OVER (ORDER BY {ROW}) AS k
            FROM malformed) GROUP BY g ORDER BY g DESC""",
    )
    if len(shifts) <= _MAX_INLINE_SHIFTS:  # few rejects: a CASE keeps the scan streaming and ordered
        whens = " ".join(f"WHEN rowid >= {g} THEN {k}" for g, k in shifts)
        return f"SELECT rowid + 1 + CASE {whens} ELSE 0 END AS {ROW}, * FROM {name}", True, encoding_error
    run(con, f"CREATE TABLE {name}_shift AS SELECT * FROM (VALUES {', '.join(f'({g}, {k})' for g, k in shifts)}) t(g, k)")
    numbered = f"""SELECT s.__pos + 1 + coalesce(h.k, 0) AS {ROW}, s.* EXCLUDE (__pos)
        FROM (SELECT rowid AS __pos, * FROM {name}) s ASOF LEFT JOIN {name}_shift h ON s.__pos >= h.g"""
    return numbered, False, encoding_error


def _scan_lines(con: duckdb.DuckDBPyConnection, path: Path, header_lines: int) -> tuple[str, str | None]:
    """Every non-blank line as a record: SQL of (__cdp_row, __cdp_raw), and an encoding error."""
    numbered, _, encoding_error = _scan_text(
        con, path, ["line"],
        f"header={'true' if header_lines else 'false'}, delim={lit(_NO_DELIMITER)}, quote='', escape='', "
        "strict_mode=false",
        header_lines, name="__lines",
    )
    return f"SELECT {ROW}, line AS {RAW} FROM ({numbered}) WHERE trim(line, ' \t\r\n') <> ''", encoding_error


def _count(con: duckdb.DuckDBPyConnection) -> int:
    return int(scalar(con, "SELECT (SELECT count(*) FROM parsed) + (SELECT count(*) FROM malformed)"))


def _header(path: Path, delimiter: str) -> list[str] | None:
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    text = first.decode("utf-8", errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not text.strip():
        return None
    try:
        names = [n.strip() for n in next(csv.reader([text], delimiter=delimiter, quotechar='"'))]
    except csv.Error:  # not a CSV header at all: DuckDB then rejects (and we quarantine) the lines
        names = [n.strip() for n in text.split(delimiter)]
    seen: dict[str, int] = {}
    unique = []
    for i, name in enumerate(names):
        name = name or f"column{i + 1}"
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name}__{seen[name]}")
    return unique


def read_csv_file(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, work_dir: Path) -> ReadOutcome:
    source, file_error = utf8_file(path, entity.encoding, work_dir)
    header = _header(source, entity.delimiter)
    if header is None:
        return _empty(con, file_error)
    try:
        numbered, ordered, encoding_error = _scan_text(
            con, source, header,
            f"header=true, delim={lit(entity.delimiter)}, quote='\"', escape='\"', null_padding=false, strict_mode=true",
            header_lines=1,
        )
    except (duckdb.Error, UnicodeError) as exc:  # DuckDB gave up on the whole file: count and quarantine its lines
        run(con, "DROP TABLE IF EXISTS malformed")
        lines, _ = _scan_lines(con, source, header_lines=1)
        run(con, f"CREATE TABLE parsed ({ROW} BIGINT)")
        run(con, f"INSERT INTO malformed SELECT {ROW}, {RAW}, 'unparseable' FROM ({lines})")
        return ReadOutcome(None, _count(con), "CAST(NULL AS VARCHAR)",
                           file_error=file_error or f"cannot parse as CSV: {str(exc).splitlines()[0]}")
    run(con, f"CREATE VIEW parsed AS {numbered}")
    return ReadOutcome(header, _count(con), _struct_json(header), ordered, file_error or encoding_error)


# --- JSON ---------------------------------------------------------------------------------------


def _json_path(key: str) -> str:
    return "$." + '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _json_documents(con: duckdb.DuckDBPyConnection, entity: Entity, documents: str) -> ReadOutcome:
    """Split ``documents`` (SQL: __cdp_row, __cdp_raw) into JSON objects and malformed values."""
    run(
        con,
        f"""CREATE TABLE __docs AS SELECT {ROW}, {RAW},
            try(json_type({RAW})) AS __type FROM ({documents})""",  # NULL: not valid JSON
    )
    run(
        con,
        f"""INSERT INTO malformed SELECT {ROW}, {RAW},
            CASE WHEN __type IS NULL THEN 'not valid JSON' ELSE 'a JSON ' || lower(__type) || ', not an object' END
            FROM __docs WHERE __type IS DISTINCT FROM 'OBJECT'""",
    )
    keys = {
        k for (k,) in run(con, f"SELECT DISTINCT unnest(json_keys({RAW})) FROM __docs WHERE __type = 'OBJECT'")
    }
    contract_names = entity.column_names
    fields = contract_names + sorted(keys - set(contract_names))
    paths = "[" + ", ".join(lit(_json_path(f)) for f in fields) + "]"
    values = ", ".join(f"__v[{i + 1}] AS {ident(f)}" for i, f in enumerate(fields))
    run(
        con,
        f"""CREATE TABLE parsed AS SELECT {ROW}, {RAW}, {values} FROM (
            SELECT {ROW}, {RAW}, json_extract_string({RAW}, {paths}) AS __v FROM __docs WHERE __type = 'OBJECT'
        )""",
    )
    run(con, "DROP TABLE __docs")
    delivered = [f for f in fields if f in keys] or None
    return ReadOutcome(delivered, _count(con), RAW, ordered=False)  # filtered: no order guarantee


def read_jsonl_file(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, work_dir: Path) -> ReadOutcome:
    source, file_error = utf8_file(path, entity.encoding, work_dir)
    lines, encoding_error = _scan_lines(con, source, header_lines=0)
    outcome = _json_documents(con, entity, lines)
    run(con, "DROP TABLE __lines")
    outcome.file_error = file_error or encoding_error
    return outcome


def read_json_array_file(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, work_dir: Path) -> ReadOutcome:
    source, file_error = utf8_file(path, entity.encoding, work_dir)
    if source.stat().st_size < 64 and not source.read_bytes().strip():
        return _empty(con, file_error)
    try:
        run(con, f"CREATE TABLE __elements AS SELECT json FROM read_json_objects({lit(str(source))}, format='array')")
    except (duckdb.Error, UnicodeError) as exc:  # not one JSON array: nothing can be counted
        return _empty(con, file_error or f"not a readable JSON array: {str(exc).splitlines()[0]}")
    with open(source, "rb") as fh:  # DuckDB accepts an array that never closes: a truncated file
        fh.seek(max(0, source.stat().st_size - 64))
        if not fh.read().rstrip().endswith(b"]"):
            file_error = file_error or "truncated: the JSON array does not end with ]"
    _create_malformed(con)
    documents = f"SELECT rowid + 1 AS {ROW}, CAST(json AS VARCHAR) AS {RAW} FROM __elements"
    outcome = _json_documents(con, entity, documents)
    run(con, "DROP TABLE __elements")
    outcome.file_error = file_error
    return outcome


# --- Parquet ------------------------------------------------------------------------------------


def read_parquet_file(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, work_dir: Path) -> ReadOutcome:
    try:
        schema = pq.read_schema(path)
        run(
            con,
            # a table, not a view: every page is decoded here, so a corrupt file fails here, whole
            f"""CREATE TABLE parsed AS SELECT file_row_number + 1 AS {ROW}, * EXCLUDE (file_row_number)
            FROM read_parquet({lit(str(path))}, file_row_number=true)""",
        )
        rows = int(scalar(con, "SELECT count(*) FROM parsed"))
    except (pa.ArrowException, OSError, duckdb.Error, UnicodeError) as exc:
        run(con, "DROP TABLE IF EXISTS parsed")
        return _empty(con, f"cannot read the Parquet file: {str(exc).splitlines()[0]}")
    _create_malformed(con)
    delivered = list(schema.names)
    return ReadOutcome(delivered, rows, _struct_json(delivered), arrow_schema=schema)


READERS: dict[str, Callable[[duckdb.DuckDBPyConnection, Entity, Path, Path], ReadOutcome]] = {
    "csv": read_csv_file,
    "jsonl": read_jsonl_file,
    "json_array": read_json_array_file,
    "parquet": read_parquet_file,
}


def read_delivered_file(con: duckdb.DuckDBPyConnection, entity: Entity, path: Path, work_dir: Path) -> ReadOutcome:
    """Read one delivered file of ``entity`` into ``parsed`` / ``malformed`` (see module doc)."""
    if not path.is_file():
        return _empty(con, f"{path.name} is missing from the delivered folder")
    if path.stat().st_size == 0 and entity.format != "parquet":
        return _empty(con)
    return READERS[entity.format](con, entity, path, work_dir)
