"""Privacy requests (call_center privacy_requests): erasure, access, restrict_marketing.

`process_requests` handles every request of `staging.stg_call_center__privacy_requests` not yet
in `privacy.request_audit` (so a re-run is idempotent) and writes, in schema `privacy`:

- `request_audit`: one row per request: received, matched customer, actions, completed at;
- `audit_log`: append-only, one row per privacy action or export: who (actor), when, why;
- `marketing_restrictions`: customers no marketing or retention action may target (every
  restrict_marketing request, re-resolved to the current customer id each run).

The matched customer is the one identity resolution gave the request's own record
(`call_center`, request_id): a request is matched like any other person record.
"""

from __future__ import annotations

import getpass
import json
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from ..identity.assets import table_columns
from ..resources import ex
from ..settings import DBT_PROJECT_DIR
from ..sources.contract import load_contract
from .erasure import ErasureSet, purge_lake, purge_warehouse, write_register

# the tables' columns and types are described once, in the dbt source models read them through
SOURCES_YAML = DBT_PROJECT_DIR / "models" / "privacy" / "_privacy__sources.yml"
AUDIT_TABLES = ("request_audit", "audit_log", "marketing_restrictions")


def actor() -> str:
    """Who acts: CDP_ACTOR (the operator or service account), else the OS user."""
    return os.environ.get("CDP_ACTOR") or f"{getpass.getuser()} (cdp pipeline)"


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    ex(con, "create schema if not exists privacy")
    for name in AUDIT_TABLES:
        ex(con, f"create table if not exists privacy.{name} ({table_columns(name, 'privacy', SOURCES_YAML)})")


def log_action(con: duckdb.DuckDBPyConnection, action: str, reason: str, *, request_id: str | None = None,
               customer_id: str | None = None, details: dict | None = None, who: str | None = None) -> None:
    """Append one row to privacy.audit_log (also used for manual overrides: `cdp`-side tools)."""
    ex(con, "insert into privacy.audit_log values (now(), ?, ?, ?, ?, ?, ?)",
                [who or actor(), action, request_id, customer_id, reason,
                 json.dumps(details or {}, ensure_ascii=False, sort_keys=True)])


def _table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                            [schema, table]).fetchall()[0][0])


@dataclass(frozen=True)
class Request:
    request_id: str
    request_type: str
    received_at: datetime
    id_no: str | None
    id_no_valid: bool | None
    mobile: str | None
    mobile_valid: bool | None
    customer_id: str | None
    match_rule: str | None
    party_type: str | None


def new_requests(con: duckdb.DuckDBPyConnection) -> list[Request]:
    rows = con.execute("""
        select r.request_id, r.request_type, r.received_at, r.id_no, r.id_no_valid, r.mobile, r.mobile_valid,
               x.customer_id, x.match_rule, x.party_type
        from staging.stg_call_center__privacy_requests r
        left join identity.customer_xref x
          on x.source_system = 'call_center' and x.source_record_id = r.request_id
        where r.request_id not in (select request_id from privacy.request_audit)
        order by r.received_at, r.request_id""").fetchall()
    return [Request(*r) for r in rows]


def _template_regex(template: str) -> tuple[re.Pattern[str], list[str]]:
    fields = re.findall(r"\{(\w+)\}", template)
    pattern = re.escape(template)
    for f in fields:
        pattern = pattern.replace(re.escape("{" + f + "}"), f"(?P<{f}>.+)")
    return re.compile(pattern), fields


def erasure_set(con: duckdb.DuckDBPyConnection, req: Request) -> ErasureSet:
    """The person's identifiers: the request's own, and those of every record of its customer."""
    es = ErasureSet(keys={f"request_id={req.request_id}", f"record=call_center/{req.request_id}"})
    if req.id_no and req.id_no_valid:
        es.id_nos.add(req.id_no)
    if req.mobile and req.mobile_valid:
        es.mobiles.add(req.mobile)
    if not req.customer_id or req.party_type != "person":
        return es
    es.keys.add(f"customer_id={req.customer_id}")
    templates = {}
    for entity in load_contract().person_bearing_entities:
        for spec in entity.person_records:
            templates[(entity.system, entity.name, spec.role)] = _template_regex(spec.record_id)
    records = con.execute("""
        select x.source_system, x.source_entity, x.role, x.source_record_id, p.id_no, p.id_no_kind, p.mobile, p.mobile_valid
        from identity.customer_xref x
        left join identity.int_person_records p using (source_system, source_record_id)
        where x.customer_id = ?""", [req.customer_id]).fetchall()
    for system, entity, role, record_id, id_no, id_kind, mobile, mobile_valid in records:
        es.keys.add(f"record={system}/{record_id}")
        regex, fields = templates.get((system, entity, role), (None, []))
        m = regex.fullmatch(record_id) if regex else None
        for f in fields:
            if m:
                es.keys.add(f"{f}={m.group(f)}")
        if id_no and id_kind in ("valid", "upgraded_15"):
            es.id_nos.add(id_no)
        if mobile and mobile_valid:
            es.mobiles.add(mobile)
    return es


def customer_export(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, list[dict]]:
    """What the platform holds on a customer: the rows of every warehouse table keyed by the customer,
    and the source records identity resolution tied to them."""
    out: dict[str, list[dict]] = {}
    tables = con.execute("""
        select c.table_schema, c.table_name from information_schema.columns c
        join information_schema.tables t using (table_catalog, table_schema, table_name)
        where c.column_name = 'customer_id' and c.table_schema not in ('privacy', 'analyst')
          and t.table_catalog = current_database()
        order by 1, 2""").fetchall()
    for schema, table in tables:
        cur = con.execute(f'select * from "{schema}"."{table}" where customer_id = ?', [customer_id])
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
        if rows:
            out[f"{schema}.{table}"] = rows
    if _table_exists(con, "identity", "int_person_records"):
        cur = con.execute("""select p.* from identity.int_person_records p
                             join identity.customer_xref x using (source_system, source_record_id)
                             where x.customer_id = ?""", [customer_id])
        names = [d[0] for d in cur.description]
        out["identity.int_person_records"] = [dict(zip(names, r)) for r in cur.fetchall()]
    return out


@dataclass
class Outcome:
    processed: dict[str, int]
    erased_rows: int
    lake_rows: int
    exports: list[str]
    erased_tables: dict[str, int] = field(default_factory=dict)  # schema.table -> rows deleted


def process_requests(con: duckdb.DuckDBPyConnection, lake: Path, export_dir: Path, salt: str) -> Outcome:
    """Handle every new request (see module doc); erasures purge the lake and the warehouse."""
    ensure_tables(con)
    outcome = Outcome({"erasure": 0, "access": 0, "restrict_marketing": 0}, 0, 0, [])
    erasures = []
    for req in new_requests(con):
        actions: list[str] = []
        export_file = None
        rows_erased = None
        matched = req.customer_id if req.party_type == "person" else None
        if req.request_type == "access":
            if matched:
                export_dir.mkdir(parents=True, exist_ok=True)
                export_file = str(export_dir / f"{req.request_id}.json")
                data = customer_export(con, matched)
                Path(export_file).write_text(json.dumps(
                    {"request_id": req.request_id, "customer_id": matched, "exported_at": datetime.now(timezone.utc),
                     "tables": data}, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
                actions.append(f"exported {sum(len(v) for v in data.values())} rows of {len(data)} tables")
                log_action(con, "access_export", "data subject access request", request_id=req.request_id,
                           customer_id=matched, details={"file": export_file, "tables": sorted(data)})
                outcome.exports.append(export_file)
            else:
                actions.append("no matching customer: nothing to export")
        elif req.request_type == "restrict_marketing":
            actions.append("marketing restricted" if matched else "no matching customer: restriction kept on the request")
            log_action(con, "restrict_marketing", "data subject objected to marketing", request_id=req.request_id,
                       customer_id=matched)
        elif req.request_type == "erasure":
            es = erasure_set(con, req)
            tokens = es.tokens(salt)
            write_register(lake, req.request_id, tokens)
            erasures.append(req.request_id)
            rows_erased = 0
            actions.append(f"registered {len(tokens)} hashed identifiers; purged lake and warehouse")
            log_action(con, "erasure_register", "right to erasure", request_id=req.request_id, customer_id=matched,
                       details={"identifiers": {"id_no": len(es.id_nos), "mobile": len(es.mobiles), "keys": len(es.keys)}})
        ex(con, "insert into privacy.request_audit values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())",
                    [req.request_id, req.request_type, req.received_at, matched, req.match_rule,
                     "completed" if matched or req.request_type == "erasure" else "no_match",
                     "; ".join(actions), rows_erased, export_file])
        outcome.processed[req.request_type] = outcome.processed.get(req.request_type, 0) + 1
    if erasures:
        lake_removed = purge_lake(lake, salt)
        wh_removed = purge_warehouse(con, lake, salt)
        dangling = drop_dangling_xref(con)
        if dangling:
            wh_removed["identity.customer_xref"] = wh_removed.get("identity.customer_xref", 0) + dangling
        outcome.lake_rows = sum(lake_removed.values())
        outcome.erased_rows = sum(wh_removed.values())
        outcome.erased_tables = dict(wh_removed)
        ex(con, "update privacy.request_audit set rows_erased = ? where request_id in (select unnest(?))",
                    [outcome.lake_rows + outcome.erased_rows, erasures])
        log_action(con, "erasure_purge", "right to erasure", details={
            "requests": erasures, "lake_rows_removed": lake_removed, "warehouse_rows_removed": wh_removed})
    refresh_marketing_restrictions(con)
    return outcome


def drop_dangling_xref(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the xref rows whose record the purge removed from identity.int_person_records: a
    record of someone else that carried the erased person's mobile or policy is gone, so its row
    goes too and the xref still covers exactly the person records. Returns the rows deleted."""
    if not (_table_exists(con, "identity", "customer_xref") and _table_exists(con, "identity", "int_person_records")):
        return 0
    n = int(con.execute("""select count(*) from identity.customer_xref x
                           anti join identity.int_person_records p using (source_system, source_record_id)
                        """).fetchall()[0][0])
    if n:
        ex(con, """delete from identity.customer_xref x where not exists (
                       select 1 from identity.int_person_records p
                       where p.source_system = x.source_system and p.source_record_id = x.source_record_id)""")
    return n


def refresh_marketing_restrictions(con: duckdb.DuckDBPyConnection) -> int:
    """Every restrict_marketing request's current customer (ids follow merges through the xref)."""
    ex(con, "delete from privacy.marketing_restrictions")
    ex(con, """
        insert into privacy.marketing_restrictions
        select distinct x.customer_id, a.request_id, a.received_at, 'all_marketing'
        from privacy.request_audit a
        join identity.customer_xref x on x.source_system = 'call_center' and x.source_record_id = a.request_id
        where a.request_type = 'restrict_marketing'""")
    return int(con.execute("select count(*) from privacy.marketing_restrictions").fetchall()[0][0])
