"""Row validation rules as vectorised DuckDB SQL, generated from the contract.

Every check is a SQL condition over the ``parsed`` relation (one row per delivered record, one
column per delivered field) plus a SQL expression describing the breach. :func:`check_case`
folds the checks into one ``CASE`` that yields the index of the first broken check, or NULL
for a clean row; the ingest keeps NULL rows and quarantines the others.

Rules (in precedence order; a row is quarantined once, under the first rule it breaks):

``unreadable_file``          file-level: the file cannot be read or decoded (whole file)
``missing_required_column``  file-level: a required column is absent (whole file)
``malformed_row``            the record cannot be parsed (CSV field count / quoting,
                             invalid JSON, a JSON value that is not an object)
``required_missing``         a required value is null, empty or blank
``bad_type``                 a required value does not parse as its contract type / format or
                             lies outside ``min`` / ``max``
``bad_enum``                 a required enum value is outside the contract's ``values``

Optional columns are never checked here: their unparseable values stay raw and staging flags them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from dagster_project.sources.contract import Column, Contract, Entity

UNREADABLE_FILE = "unreadable_file"
MISSING_REQUIRED_COLUMN = "missing_required_column"
MALFORMED_ROW = "malformed_row"
REQUIRED_MISSING = "required_missing"
BAD_TYPE = "bad_type"
BAD_ENUM = "bad_enum"
RULES = (UNREADABLE_FILE, MISSING_REQUIRED_COLUMN, MALFORMED_ROW, REQUIRED_MISSING, BAD_TYPE, BAD_ENUM)

# Characters a blank value may consist of: ASCII white space, no-break and ideographic space.
WHITESPACE = " \t\r\n\u00a0\u3000"
_WHITESPACE_CODES = ", ".join(str(ord(c)) for c in WHITESPACE)
_SHOWN_VALUE_CHARS = 120


def ident(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def shown(expr: str) -> str:
    """SQL text showing a value in a reason: quoted and cut, or NULL."""
    return f"coalesce('''' || left(CAST({expr} AS VARCHAR), {_SHOWN_VALUE_CHARS}) || '''', 'NULL')"


@dataclass(frozen=True)
class Check:
    rule: str
    column: str | None
    condition: str  # SQL: true when the row breaks the rule
    message: str  # SQL text: what is wrong, naming the column and the value


def is_required(entity: Entity, column: Column) -> bool:
    """Required by the contract, or part of the key (a null key is always `required_missing`)."""
    return column.required or column.name in entity.key


# --- parsing a text value as its contract type ------------------------------------------------

_INTEGER_PATTERN = "[+-]?[0-9]+"
_THOUSANDS_PATTERN = "[+-]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)([.][0-9]+)?"


def _bounds(column: Column, number: str) -> tuple[str, str]:
    """(SQL condition true when out of bounds, text describing the bounds)."""
    parts, words = [], []
    if column.min is not None:
        parts.append(f"{number} < {float(column.min)!r}")
        words.append(f">= {column.min:g}")
    if column.max is not None:
        parts.append(f"{number} > {float(column.max)!r}")
        words.append(f"<= {column.max:g}")
    if not parts:
        return "", ""
    return " OR ".join(parts), " " + " and ".join(words)


_FIXED_WIDTH = {"%Y": 4, "%m": 2, "%d": 2, "%H": 2, "%M": 2, "%S": 2}


def _compact_width(fmt: str) -> int | None:
    """The length of a value of a format whose fields touch (``%Y%m%d``), else None.

    strptime reads fields of variable width, so ``2024011`` would pass ``%Y%m%d``: where fields
    touch, only the exact zero-padded length is unambiguous.
    """
    if "%%" in fmt or not any(a + b in fmt for a in _FIXED_WIDTH for b in _FIXED_WIDTH):
        return None
    width, rest = 0, fmt
    for directive, size in _FIXED_WIDTH.items():
        width += rest.count(directive) * size
        rest = rest.replace(directive, "")
    return None if "%" in rest else width + len(rest)


def _strptime_fails(text: str, fmt: str) -> str:
    width = _compact_width(fmt)
    fails = f"try_strptime({text}, {lit(fmt)}) IS NULL"
    return f"length({text}) <> {width} OR {fails}" if width else fails


def _text_parse_failure(column: Column, text: str) -> tuple[str, str] | None:
    """(SQL condition true when the trimmed text ``text`` is not a valid value, description)."""
    fmt = column.format
    iso = fmt is None or fmt == "iso8601"
    if column.type == "date":
        return (f"try_cast({text} AS DATE) IS NULL", "an ISO-8601 date") if iso else (
            _strptime_fails(text, fmt), f"a date in format {fmt}")
    if column.type == "timestamp":
        return (f"try_cast({text} AS TIMESTAMPTZ) IS NULL", "an ISO-8601 timestamp") if iso else (
            _strptime_fails(text, fmt), f"a timestamp in format {fmt}")
    if column.type == "month":
        return _strptime_fails(text, fmt or "%Y-%m"), f"a month in format {fmt or '%Y-%m'}"
    if column.type in ("integer", "epoch_ms"):
        number = f"try_cast({text} AS BIGINT)"
        out, words = _bounds(column, number)
        fails = f"NOT regexp_full_match({text}, {lit(_INTEGER_PATTERN)}) OR {number} IS NULL"
        what = "an integer (epoch milliseconds)" if column.type == "epoch_ms" else "an integer"
        return (f"{fails} OR {out}" if out else fails), what + words
    if column.type == "decimal":
        if column.thousands_separator:
            number = f"try_cast(replace({text}, ',', '') AS DOUBLE)"
            fails = f"NOT regexp_full_match({text}, {lit(_THOUSANDS_PATTERN)})"
            what = "a decimal number (thousands separators allowed)"
        else:
            number = f"try_cast({text} AS DOUBLE)"
            fails = f"NOT coalesce(isfinite({number}), false)"
            what = "a decimal number"
        out, words = _bounds(column, number)
        return (f"{fails} OR {out}" if out else fails), what + words
    if column.type == "boolean":
        return f"try_cast({text} AS BOOLEAN) IS NULL", "a boolean"
    if column.type == "json":
        return f"NOT coalesce(json_valid({text}), false)", "a JSON value"
    return None  # string, enum: any text parses


# Contract type -> DuckDB type a typed (Parquet) value must convert to.
_DUCKDB_TYPES = {
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "epoch_ms": "BIGINT",
    "integer": "BIGINT",
    "decimal": "DOUBLE",
    "boolean": "BOOLEAN",
    "json": "JSON",
    "month": "DATE",
}


def _typed_conversion_failure(column: Column, value: str) -> tuple[str, str] | None:
    target = _DUCKDB_TYPES.get(column.type)
    if target is None:
        return None
    fails = f"try_cast({value} AS {target}) IS NULL"
    out, words = _bounds(column, f"try_cast({value} AS DOUBLE)")
    return (f"{fails} OR {out}" if out else fails), f"{column.type} ({target}){words}"


def row_checks(entity: Entity, present: dict[str, str]) -> list[Check]:
    """The row-level checks of an entity, in precedence order.

    ``present`` maps each delivered contract column to its DuckDB type in ``parsed``
    (VARCHAR for the text formats). Absent columns are handled at file level by the caller.
    """
    required = [c for c in entity.columns if is_required(entity, c) and c.name in present]
    by_rule: dict[str, list[Check]] = {REQUIRED_MISSING: [], BAD_TYPE: [], BAD_ENUM: []}
    for col in required:
        value = ident(col.name)
        is_text = present[col.name].upper() == "VARCHAR"
        text = value if is_text else f"CAST({value} AS VARCHAR)"
        # Values are judged after trimming white space, but trimming every value is the costliest
        # step of a load: each test runs on the value as delivered first, and on the trimmed value
        # only where that fails (DuckDB evaluates the right side of AND only where the left holds).
        # `list_contains`, not `IN (...)`: DuckDB plans an IN list as a join, evaluating both sides
        # of the AND on every row.
        trimmed = f"trim({text}, {lit(WHITESPACE)})"
        blank = f"{value} IS NULL"
        if is_text:
            blank += f" OR {value} = '' OR (list_contains([{_WHITESPACE_CODES}], ascii({value})) AND {trimmed} = '')"
        by_rule[REQUIRED_MISSING].append(Check(
            REQUIRED_MISSING, col.name, blank,
            f"'required column {col.name} is ' || CASE WHEN {value} IS NULL THEN 'null or absent' "
            f"ELSE 'blank (' || {shown(value)} || ')' END",
        ))
        if is_text:
            failure = _text_parse_failure(col, value)
            if failure is not None:
                failure = (f"({failure[0]}) AND ({_text_parse_failure(col, trimmed)[0]})", failure[1])
        else:
            failure = _typed_conversion_failure(col, value)
        if failure is not None:
            condition, what = failure
            by_rule[BAD_TYPE].append(Check(
                BAD_TYPE, col.name, condition,
                f"'column {col.name} value ' || {shown(value)} || {lit(' is not ' + what)}",
            ))
        if col.type == "enum":
            allowed = "[" + ", ".join(lit(v) for v in col.values or ()) + "]"
            by_rule[BAD_ENUM].append(Check(
                BAD_ENUM, col.name, f"NOT list_contains({allowed}, {text}) AND NOT list_contains({allowed}, {trimmed})",
                f"'column {col.name} value ' || {shown(value)} || "
                f"{lit(' is not one of ' + ', '.join(col.values or ()))}",
            ))
    return [check for rule in (REQUIRED_MISSING, BAD_TYPE, BAD_ENUM) for check in by_rule[rule]]


def check_case(checks: list[Check]) -> str:
    """SQL yielding the 0-based index of the first broken check, NULL when the row is clean."""
    if not checks:
        return "CAST(NULL AS INTEGER)"
    whens = " ".join(f"WHEN {c.condition} THEN {i}" for i, c in enumerate(checks))
    return f"(CASE {whens} END)"


def check_lookup(checks: list[Check], index: str) -> tuple[str, str, str]:
    """SQL (rule, column_name, message) of the check numbered by the SQL expression ``index``."""
    if not checks:
        null = "CAST(NULL AS VARCHAR)"
        return null, null, null
    rules = "[" + ", ".join(lit(c.rule) for c in checks) + "]"
    columns = "[" + ", ".join(lit(c.column) if c.column else "NULL" for c in checks) + "]"
    messages = " ".join(f"WHEN {i} THEN {c.message}" for i, c in enumerate(checks))
    return f"{rules}[{index} + 1]", f"{columns}[{index} + 1]", f"(CASE {index} {messages} END)"


# --- Arrow types of contract columns (Parquet deliveries) -----------------------------------


def arrow_type(column: Column, contract: Contract) -> pa.DataType:
    """The Arrow type a Parquet delivery carries for a contract column (SOURCES.md)."""
    return {
        "date": pa.date32(),
        "timestamp": pa.timestamp("ms", tz=contract.timezone),
        "decimal": pa.float64(),
        "boolean": pa.bool_(),
        "integer": pa.int64(),
        "epoch_ms": pa.int64(),
    }.get(column.type, pa.string())
