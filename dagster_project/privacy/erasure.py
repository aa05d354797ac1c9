"""Right to erasure: the register of erased identifiers, and the purge of the lake and warehouse.

An erased person is described by salted tokens (`token(kind, value)` = sha256 of salt, kind and
the canonical value), never by the values themselves:

- `id_no`   canonical resident ID (18 chars, uppercase) and its 15-digit legacy form;
- `mobile`  canonical mobile (11 digits);
- `key`     `<column>=<value>` of a record key the person's records carry: `policy_no=...` (every
            policy they hold or are insured by), `lead_id=...`, `claim_id=...`, `user_id=...`,
            `cif_no=...`, `external_userid=...`, `id_no_sha256=...`, `request_id=...`,
            `customer_id=...`, `record=<system>/<source_record_id>`.

A row of any relation is the person's when one of its string columns matches: an ID or mobile
column (by name), a key column (by name), or a free-text column (remark, summary, the
quarantine's raw_record) holding the ID or mobile. The same predicate purges the lake's Parquet
files, deletes from every warehouse table, and suppresses re-delivered rows at ingest (the
register lives beside the lake: `<lake>/privacy/erasure_register/*.parquet`, one file per
request). Rows are removed, not masked: a policy the person is party to goes with its payments,
claims and touches; a row of someone else that carries the person's mobile (a shared family
number) goes too, as that mobile is the person's identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ..resources import ex

FULLWIDTH = "０１２３４５６７８９ｘＸ"
HALFWIDTH = "0123456789XX"
ID_COLUMN = re.compile(r"(.*_)?id_no")
MOBILE_COLUMN = re.compile(r"(.*_)?mobile")
FREE_TEXT_COLUMNS = frozenset({"remark", "summary", "raw_record"})
# key columns of records (person_records templates of the contract), and their aliases
KEY_COLUMNS = frozenset({"policy_no", "lead_id", "uw_case_id", "claim_id", "ticket_id", "request_id", "user_id",
                         "cif_no", "external_userid", "id_no_sha256", "customer_id"})
KEY_ALIASES = {"won_policy_no": "policy_no", "converted_policy_no": "policy_no",
               "head_customer_id": "customer_id", "from_customer_id": "customer_id",
               "to_customer_id": "customer_id"}
REGISTER_COLUMNS = "kind varchar, token varchar, request_id varchar, registered_at timestamptz"


def lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def token_sql(salt: str, kind: str, expr: str) -> str:
    return f"sha256({lit(salt + '|' + kind + '|')} || {expr})"


def token(salt: str, kind: str, value: str) -> str:
    import hashlib

    return hashlib.sha256(f"{salt}|{kind}|{value}".encode("utf-8")).hexdigest()


def norm_id_sql(expr: str) -> str:
    return f"upper(regexp_replace(translate({expr}, '{FULLWIDTH}', '{HALFWIDTH}'), '[^0-9A-Za-z]', '', 'g'))"


def norm_mobile_sql(expr: str) -> str:
    digits = f"regexp_replace(translate({expr}, '{FULLWIDTH}', '{HALFWIDTH}'), '[^0-9]', '', 'g')"
    return f"regexp_replace({digits}, '^(0086|86)(1[0-9]{{10}})$', '\\2')"


def legacy_15(id18: str) -> str | None:
    """The 15-digit legacy form of an 18-char resident ID born 19xx (no century, no check digit)."""
    if len(id18) == 18 and id18[:17].isdigit() and id18[6:8] == "19":
        return id18[:6] + id18[8:17]
    return None


@dataclass
class ErasureSet:
    """The plain identifiers of one erased person (in memory only; the register keeps tokens)."""

    id_nos: set[str] = field(default_factory=set)
    mobiles: set[str] = field(default_factory=set)
    keys: set[str] = field(default_factory=set)  # "<column>=<value>"

    def tokens(self, salt: str) -> list[tuple[str, str]]:
        import hashlib

        out = set()
        for i in self.id_nos:
            out.add(("id_no", token(salt, "id_no", i)))
            if legacy_15(i):
                out.add(("id_no", token(salt, "id_no", legacy_15(i))))
            out.add(("key", token(salt, "key", "id_no_sha256=" + hashlib.sha256(i.encode()).hexdigest())))
        out |= {("mobile", token(salt, "mobile", m)) for m in self.mobiles}
        out |= {("key", token(salt, "key", k)) for k in self.keys}
        return sorted(out)


def key_name(column: str) -> str | None:
    column = column.lower()
    if column in KEY_COLUMNS:
        return column
    return KEY_ALIASES.get(column)


def row_predicate(columns: dict[str, str], salt: str, tokens_table: str = "__erasure_tokens") -> str | None:
    """SQL true for a row of the erased persons, over `columns` (name -> DuckDB type); None when
    the relation has no column that can identify a person."""
    def any_of(kind: str) -> str:
        return f"(select token from {tokens_table} where kind = '{kind}')"

    terms = []
    names = {c.lower(): c for c in columns}
    for low, col in names.items():
        ref = f'cast("{col}" as varchar)'
        if "VARCHAR" not in columns[col].upper() and key_name(low) is None:
            continue
        if ID_COLUMN.fullmatch(low):
            terms.append(f"{token_sql(salt, 'id_no', norm_id_sql(ref))} in {any_of('id_no')}")
        elif MOBILE_COLUMN.fullmatch(low):
            terms.append(f"{token_sql(salt, 'mobile', norm_mobile_sql(ref))} in {any_of('mobile')}")
        elif low in FREE_TEXT_COLUMNS:
            text = f"regexp_replace(translate({ref}, '{FULLWIDTH}', '{HALFWIDTH}'), '[ -]', '', 'g')"
            found = (f"list_transform(regexp_extract_all({text}, '1[3-9][0-9]{{9}}'), lambda v: {token_sql(salt, 'mobile', 'v')})"
                     f" || list_transform(regexp_extract_all(upper({text}), '[0-9]{{17}}[0-9X]|[0-9]{{15}}'), "
                     f"lambda v: {token_sql(salt, 'id_no', 'v')})")
            terms.append(f"list_has_any({found}, (select coalesce(list(token), []) from {tokens_table} "
                         f"where kind in ('mobile', 'id_no')))")
        if key_name(low):
            terms.append(f"{token_sql(salt, 'key', lit(key_name(low) + '=') + ' || ' + ref)} in {any_of('key')}")
    if "source_system" in names and "source_record_id" in names:
        rec = f"'record=' || \"{names['source_system']}\" || '/' || \"{names['source_record_id']}\""
        terms.append(f"{token_sql(salt, 'key', rec)} in {any_of('key')}")
    if not terms:
        return None
    return "coalesce(" + " or ".join(f"coalesce({t}, false)" for t in terms) + ", false)"


# --------------------------------------------------------------------------- register


def register_dir(lake: Path) -> Path:
    return Path(lake) / "privacy" / "erasure_register"


def write_register(lake: Path, request_id: str, tokens: list[tuple[str, str]]) -> Path:
    """One Parquet file per erasure request (idempotent: rewriting it gives the same tokens)."""
    target = register_dir(lake) / f"{re.sub(r'[^A-Za-z0-9_-]', '_', request_id)}.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc).isoformat()
    with duckdb.connect() as con:
        ex(con, f"create table reg ({REGISTER_COLUMNS})")
        if tokens:
            ex(con, "insert into reg select unnest(?), unnest(?), ?, cast(? as timestamptz)",
               [[k for k, _ in tokens], [t for _, t in tokens], request_id, now])
        tmp = target.with_suffix(".tmp")
        ex(con, f"copy reg to {lit(str(tmp))} (format parquet)")
    tmp.replace(target)
    return target


def load_register(con: duckdb.DuckDBPyConnection, lake: Path, table: str = "__erasure_tokens") -> int:
    """Create temp table `table` (kind, token) from the register; the number of tokens (0: none)."""
    files = sorted(register_dir(lake).glob("*.parquet"))
    ex(con, f"create or replace temp table {table} (kind varchar, token varchar)")
    if files:
        paths = "[" + ", ".join(lit(str(f)) for f in files) + "]"
        ex(con, f"insert into {table} select distinct kind, token from read_parquet({paths})")
    return int(con.execute(f"select count(*) from {table}").fetchall()[0][0])


# --------------------------------------------------------------------------- purge


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"describe {relation}").fetchall()}


def _rewrite(con: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    """Replace a Parquet file with `query`'s rows, keeping the file's Arrow schema (delivered
    Parquet types such as timestamp[ms, tz]) where the rows cast back to it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = con.sql(query).to_arrow_table()
    try:
        table = table.cast(pq.read_schema(path))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        pass
    tmp = path.with_name(path.name + ".erasing")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def purge_lake(lake: Path, salt: str) -> dict[str, int]:
    """Rewrite every raw and quarantine Parquet file without the register's persons' rows.
    Returns rows removed per `<zone>/<system>/<entity>`."""
    removed: dict[str, int] = {}
    lake = Path(lake)
    with duckdb.connect() as con:
        if not load_register(con, lake):
            return removed
        for zone in ("raw", "quarantine"):
            for f in sorted((lake / zone).glob("*/*/business_date=*/part-*.parquet")):
                rel = f"read_parquet({lit(str(f))})"
                pred = row_predicate(_columns(con, f"select * from {rel}"), salt)
                if pred is None:
                    continue
                n = int(con.execute(f"select count(*) from {rel} where {pred}").fetchall()[0][0])
                if not n:
                    continue
                _rewrite(con, f, f"select * from {rel} where not ({pred})")
                name = "/".join([zone, *f.relative_to(lake / zone).parts[:2]])
                removed[name] = removed.get(name, 0) + n
    return removed


def purge_warehouse(con: duckdb.DuckDBPyConnection, lake: Path, salt: str,
                    keep_schemas: tuple[str, ...] = ("privacy",)) -> dict[str, int]:
    """Delete the register's persons' rows from every base table of the warehouse (views read
    purged tables or the purged lake). Returns rows deleted per `schema.table`."""
    removed: dict[str, int] = {}
    if not load_register(con, lake):
        return removed
    tables = con.execute("""
        select table_schema, table_name from information_schema.tables
        where table_type = 'BASE TABLE' and table_catalog = current_database()
          and table_schema not in ('information_schema', 'pg_catalog')
        order by 1, 2""").fetchall()
    for schema, table in tables:
        if schema in keep_schemas:
            continue
        rel = f'"{schema}"."{table}"'
        pred = row_predicate(_columns(con, rel), salt)
        if pred is None:
            continue
        n = int(con.execute(f"select count(*) from {rel} where {pred}").fetchall()[0][0])
        if n:
            ex(con, f"delete from {rel} where {pred}")
            removed[f"{schema}.{table}"] = n
    return removed
