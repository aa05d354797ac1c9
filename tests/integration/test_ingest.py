"""Ingest: tiny landing folders written from the contract -> raw lake, quarantine, ingest log."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dagster_project.ingest import (
    INGEST_LOG,
    QUARANTINE,
    QUARANTINE_COLUMNS,
    RAW,
    ingest_entity_partition,
    ingest_log_glob,
    part_path,
    quarantine_glob,
    raw_glob,
    scan_landing,
)
from dagster_project.sources.contract import LINEAGE_COLUMNS, load_contract
from tests.fixtures.landing import entity_file_bytes, valid_row, write_delivery

CONTRACT = load_contract()
DAY = date(2024, 3, 1)


class Lake:
    """A landing folder and a lake under tmp_path, with readers for what ingest wrote."""

    def __init__(self, root: Path):
        self.landing = root / "landing"
        self.lake = root / "lake"

    def ingest(self, system: str, name: str, day: date = DAY):
        result = ingest_entity_partition(CONTRACT.entity(system, name), day, self.landing, self.lake)
        assert result.rows_read == result.rows_loaded + result.rows_quarantined
        if result.status == "loaded":  # raw and quarantine files hold the rows in file order
            for zone in (RAW, QUARANTINE):
                numbers = self.table(zone, system, name, day).column("_row_number").to_pylist()
                assert numbers == sorted(set(numbers))
        return result

    def table(self, zone: str, system: str, name: str, day: date = DAY) -> pa.Table:
        return pq.read_table(part_path(self.lake, zone, CONTRACT.entity(system, name), day))

    def raw(self, system: str, name: str, day: date = DAY) -> list[dict]:
        return self.table(RAW, system, name, day).to_pylist()

    def quarantine(self, system: str, name: str, day: date = DAY) -> list[dict]:
        return self.table(QUARANTINE, system, name, day).to_pylist()

    def quarantined(self, system: str, name: str, day: date = DAY) -> list[tuple]:
        """(row, rule, column) of the quarantined rows."""
        return [(q["_row_number"], q["rule"], q["column_name"]) for q in self.quarantine(system, name, day)]


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path)


def rows(system: str, name: str, n: int) -> list[dict]:
    entity = CONTRACT.entity(system, name)
    return [valid_row(entity, i) for i in range(n)]


def contract_schema_names(system: str, name: str, extras: tuple[str, ...] = ()) -> list[str]:
    return [*CONTRACT.entity(system, name).column_names, *extras, *LINEAGE_COLUMNS]


# --- formats ----------------------------------------------------------------------------------


def test_gbk_pipe_csv_loads_raw_values_with_lineage(lake):
    data = rows("policy_admin", "policies", 3)
    data[0]["holder_name"] = "张伟"
    data[1]["insured_name"] = "陳大文|HK"  # the delimiter inside a quoted field
    data[2]["premium_annual"] = "12,345.50"
    data[2]["holder_birth"] = None
    folder = write_delivery(lake.landing, "policy_admin", DAY, {"policies": data})
    assert "张伟".encode("gbk") in (folder / "policies.csv").read_bytes()

    result = lake.ingest("policy_admin", "policies")

    assert (result.status, result.rows_read, result.rows_loaded, result.rows_quarantined) == ("loaded", 3, 3, 0)
    table = lake.table(RAW, "policy_admin", "policies")
    assert table.column_names == contract_schema_names("policy_admin", "policies")
    entity = CONTRACT.entity("policy_admin", "policies")
    assert all(table.schema.field(c).type == pa.string() for c in entity.column_names)
    got = table.to_pylist()
    assert [r["holder_name"] for r in got] == ["张伟", "holder_name_0001", "holder_name_0002"]
    assert got[1]["insured_name"] == "陳大文|HK"
    assert got[2]["premium_annual"] == "12,345.50"
    assert got[2]["holder_birth"] is None
    assert got[0]["issue_date"] == "20240101" and got[0]["updated_at"] == "20240101093015"
    delivery = scan_landing(lake.landing)[0]
    assert [r["_row_number"] for r in got] == [1, 2, 3]
    assert {r["_source_file"] for r in got} == {"policy_admin/2024-03-01/policies.csv"}
    assert {r["_business_date"] for r in got} == {DAY}
    assert {r["_delivery_id"] for r in got} == {delivery.delivery_id} == {result.delivery_id}
    assert table.schema.field("_loaded_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("_row_number").type == pa.int64()


def test_utf8_csv_rfc4180_quotes_and_multiline_fields(lake):
    data = rows("underwriting", "uw_cases", 3)
    data[0]["applicant_name"] = 'Smith, "Jr"'
    data[1]["applicant_name"] = "王\n芳"  # a line break inside a quoted field: still one record
    data[1]["policy_no"] = None
    data[2]["bmi"] = ""
    write_delivery(lake.landing, "underwriting", DAY, {"uw_cases": data})

    result = lake.ingest("underwriting", "uw_cases")

    assert (result.rows_read, result.rows_loaded) == (3, 3)
    got = lake.raw("underwriting", "uw_cases")
    assert [r["applicant_name"] for r in got] == ['Smith, "Jr"', "王\n芳", "applicant_name_0002"]
    assert got[1]["policy_no"] is None and got[2]["bmi"] is None  # empty CSV fields are NULL
    assert [r["_row_number"] for r in got] == [1, 2, 3]


def test_jsonl_values_kept_as_text(lake):
    data = rows("app_events", "events", 2)
    data[0]["page"] = None
    del data[1]["props"]  # a missing optional key is NULL like a JSON null
    write_delivery(lake.landing, "app_events", DAY, {"events": data}, columns={"events": list(data[0])})
    (lake.landing / "app_events" / DAY.isoformat() / "events.jsonl").write_text(
        json.dumps(data[0], ensure_ascii=False) + "\n" + json.dumps(data[1], ensure_ascii=False) + "\n"
    )
    result = lake.ingest("app_events", "events")

    assert (result.rows_read, result.rows_loaded, result.missing_optional_columns) == (2, 2, [])
    table = lake.table(RAW, "app_events", "events")
    assert table.column_names == contract_schema_names("app_events", "events")
    got = table.to_pylist()
    assert got[0]["event_time"] == str(data[0]["event_time"])  # JSON number -> its text
    assert json.loads(got[0]["props"]) == {"k": 0, "tags": ["a", "b"]}  # JSON object -> JSON text
    assert got[0]["page"] is None and got[1]["props"] is None
    assert [r["_row_number"] for r in got] == [1, 2]


def test_json_array_element_numbers_and_non_object_elements(lake):
    data = rows("benefits", "service_usage", 3)
    content = json.dumps([data[0], 5, data[2], "text"], ensure_ascii=False).encode()
    write_delivery(lake.landing, "benefits", DAY, {"service_usage": content})

    result = lake.ingest("benefits", "service_usage")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    got = lake.raw("benefits", "service_usage")
    assert [(r["usage_id"], r["_row_number"]) for r in got] == [("usage_id_0000", 1), ("usage_id_0002", 3)]
    q = lake.quarantine("benefits", "service_usage")
    assert [(r["_row_number"], r["rule"], r["raw_record"]) for r in q] == [
        (2, "malformed_row", "5"), (4, "malformed_row", '"text"')
    ]


def test_parquet_keeps_delivered_types_and_adds_missing_optional_typed(lake):
    entity = CONTRACT.entity("claims", "claims")
    data = rows("claims", "claims", 4)
    data[1]["claim_type"] = "alien"
    data[2]["claimant_name"] = None
    data[3]["claimant_name"] = "  "
    columns = [c for c in entity.column_names if c != "closed_at"]
    write_delivery(lake.landing, "claims", DAY, {"claims": data}, columns={"claims": columns})

    result = lake.ingest("claims", "claims")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 1, 3)
    assert result.missing_optional_columns == ["closed_at"] and result.missing_required_columns == []
    table = lake.table(RAW, "claims", "claims")
    assert table.column_names == contract_schema_names("claims", "claims")
    schema = table.schema
    assert schema.field("incident_date").type == pa.date32()
    assert schema.field("reported_at").type == pa.timestamp("ms", tz="Asia/Shanghai")
    assert schema.field("closed_at").type == pa.timestamp("ms", tz="Asia/Shanghai")
    assert schema.field("claimed_amount").type == pa.float64()
    assert schema.field("fraud_suspected").type == pa.bool_()
    assert table.to_pylist()[0]["closed_at"] is None
    assert lake.quarantined("claims", "claims") == [
        (2, "bad_enum", "claim_type"), (3, "required_missing", "claimant_name"), (4, "required_missing", "claimant_name")
    ]
    assert json.loads(lake.quarantine("claims", "claims")[0]["raw_record"])["claim_id"] == "claim_id_0001"


# --- row rules ----------------------------------------------------------------------------------


def test_required_missing_bad_enum_bad_type_exact_rows(lake):
    data = rows("billing", "payments", 7)
    data[1]["txn_id"] = "   "
    data[2]["method"] = "bitcoin"
    data[3]["due_date"] = "2024-02-30"
    data[4]["amount_fen"] = "12.5"
    data[5]["status"] = " paid "  # compared after trimming: valid
    data[6]["paid_at"] = "not a time"  # optional: kept raw, staging flags it
    write_delivery(lake.landing, "billing", DAY, {"payments": data})

    result = lake.ingest("billing", "payments")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (7, 3, 4)
    assert result.quarantine_by_rule == {"bad_enum": 1, "bad_type": 2, "required_missing": 1}
    assert lake.quarantined("billing", "payments") == [
        (2, "required_missing", "txn_id"), (3, "bad_enum", "method"),
        (4, "bad_type", "due_date"), (5, "bad_type", "amount_fen"),
    ]
    loaded = lake.raw("billing", "payments")
    assert [r["_row_number"] for r in loaded] == [1, 6, 7]
    assert loaded[1]["status"] == " paid " and loaded[2]["paid_at"] == "not a time"
    q = lake.quarantine("billing", "payments")
    assert list(lake.table(QUARANTINE, "billing", "payments").column_names) == list(QUARANTINE_COLUMNS)
    reason = q[2]["reason"]
    for part in ("billing/2024-03-01/payments.csv", "row 4", "due_date", "'2024-02-30'", "bad_type", "%Y-%m-%d"):
        assert part in reason
    assert "bitcoin" in q[1]["reason"] and "bad_enum" in q[1]["reason"]
    assert json.loads(q[3]["raw_record"])["amount_fen"] == "12.5"
    assert {(r["system"], r["entity"], r["_business_date"]) for r in q} == {("billing", "payments", DAY)}


def test_integer_bounds_epoch_and_thousands(lake):
    data = rows("scrm_wechat", "contacts", 3)
    data[0]["messages_30d"] = "1,000"  # an integer column allows no separators
    data[1]["updated_at"] = "2024-13-01T00:00:00+08:00"
    write_delivery(lake.landing, "scrm_wechat", DAY, {"contacts": data})
    result = lake.ingest("scrm_wechat", "contacts")
    assert lake.quarantined("scrm_wechat", "contacts") == [(1, "bad_type", "messages_30d"), (2, "bad_type", "updated_at")]
    assert result.rows_loaded == 1

    bands = rows("external_data", "risk_bands", 2)
    bands[1]["income_band"] = 9  # max 5
    write_delivery(lake.landing, "external_data", DAY, {"risk_bands": bands})
    lake.ingest("external_data", "risk_bands")
    assert lake.quarantined("external_data", "risk_bands") == [(2, "bad_type", "income_band")]


def test_malformed_csv_lines_are_quarantined_with_their_line(lake):
    entity = CONTRACT.entity("marketing", "consents")
    good = entity_file_bytes(entity, rows("marketing", "consents", 3)).decode().splitlines()
    lines = [good[0], good[1], "13800000000,sms,opt_in,2024-01-01 00:00:00,extra", good[2],
             '"bad"x,sms,opt_in,2024-01-01 00:00:00', "13800000001,sms", good[3]]
    write_delivery(lake.landing, "marketing", DAY, {"consents": ("\n".join(lines) + "\n").encode()})

    result = lake.ingest("marketing", "consents")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)
    assert [r["_row_number"] for r in lake.raw("marketing", "consents")] == [1, 3, 6]
    q = lake.quarantine("marketing", "consents")
    assert [(r["_row_number"], r["rule"], r["raw_record"]) for r in q] == [
        (2, "malformed_row", lines[2]), (4, "malformed_row", lines[4]), (5, "malformed_row", lines[5])
    ]
    assert "TOO MANY COLUMNS" in q[0]["reason"] and "row 2" in q[0]["reason"]


def test_many_malformed_lines_keep_every_row_number(lake):
    """Past a few dozen rejected lines the row numbers come from an ASOF join: same result."""
    entity = CONTRACT.entity("marketing", "consents")
    good = entity_file_bytes(entity, rows("marketing", "consents", 300)).decode().splitlines()
    lines = [good[0]]
    for i, line in enumerate(good[1:]):
        lines.append(line)
        if i % 3 == 0:
            lines.append(f"broken,{i}")  # too few fields
    write_delivery(lake.landing, "marketing", DAY, {"consents": ("\n".join(lines) + "\n").encode()})

    result = lake.ingest("marketing", "consents")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (400, 300, 100)
    expected_good = [n for n, line in enumerate(lines[1:], start=1) if not line.startswith("broken")]
    assert [r["_row_number"] for r in lake.raw("marketing", "consents")] == expected_good
    assert [r["recorded_at"] for r in lake.raw("marketing", "consents")] == [
        valid_row(entity, i)["recorded_at"] for i in range(300)
    ]
    q = lake.quarantine("marketing", "consents")
    assert [(r["_row_number"], r["raw_record"]) for r in q] == [
        (n, line) for n, line in enumerate(lines[1:], start=1) if line.startswith("broken")
    ]


def test_malformed_json_lines(lake):
    data = rows("agent_crm", "leads", 3)
    text = "\n".join([json.dumps(data[0]), '{"lead_id": "L9", ', "", "[1, 2]", json.dumps(data[1]), json.dumps(data[2])])
    write_delivery(lake.landing, "agent_crm", DAY, {"leads": text.encode()})

    result = lake.ingest("agent_crm", "leads")

    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (5, 3, 2)  # the blank line is no row
    assert [r["_row_number"] for r in lake.raw("agent_crm", "leads")] == [1, 5, 6]
    q = lake.quarantine("agent_crm", "leads")
    assert [(r["_row_number"], r["rule"], r["raw_record"]) for r in q] == [
        (2, "malformed_row", '{"lead_id": "L9", '), (4, "malformed_row", "[1, 2]")
    ]


# --- file-level rules ---------------------------------------------------------------------------


def test_missing_required_column_fails_that_file_only(lake):
    tickets = rows("call_center", "tickets", 2)
    for t in tickets:
        del t["priority"]
    write_delivery(lake.landing, "call_center", DAY,
                   {"tickets": tickets, "privacy_requests": rows("call_center", "privacy_requests", 2)})

    failed = lake.ingest("call_center", "tickets")
    fine = lake.ingest("call_center", "privacy_requests")

    assert failed.missing_required_columns == ["priority"] and failed.file_failed
    assert (failed.rows_read, failed.rows_loaded, failed.rows_quarantined) == (2, 0, 2)
    assert lake.quarantined("call_center", "tickets") == [
        (1, "missing_required_column", "priority"), (2, "missing_required_column", "priority")
    ]
    assert "priority" in lake.quarantine("call_center", "tickets")[0]["reason"]
    raw = lake.table(RAW, "call_center", "tickets")
    assert raw.num_rows == 0 and raw.column_names == contract_schema_names("call_center", "tickets")
    assert (fine.rows_loaded, fine.rows_quarantined, fine.file_failed) == (2, 0, False)


def test_missing_required_csv_header_column(lake):
    entity = CONTRACT.entity("billing", "payments")
    columns = [c for c in entity.column_names if c not in ("method", "payer_name")]
    write_delivery(lake.landing, "billing", DAY, {"payments": rows("billing", "payments", 2)}, columns={"payments": columns})
    result = lake.ingest("billing", "payments")
    assert result.missing_required_columns == ["method"] and result.missing_optional_columns == ["payer_name"]
    assert result.quarantine_by_rule == {"missing_required_column": 2} and result.rows_loaded == 0


def test_schema_drift_column_is_kept_and_reported(lake):
    data = rows("marketing", "consents", 2)
    for i, r in enumerate(data):
        r["source_app"] = f"app{i}"
    write_delivery(lake.landing, "marketing", DAY, {"consents": data})

    result = lake.ingest("marketing", "consents")

    assert result.extra_columns == ["source_app"] and result.rows_loaded == 2
    table = lake.table(RAW, "marketing", "consents")
    assert table.column_names == contract_schema_names("marketing", "consents", ("source_app",))
    assert table.column("source_app").to_pylist() == ["app0", "app1"]


def test_bad_encoding_quarantines_the_whole_file(lake):
    entity = CONTRACT.entity("policy_admin", "policies")
    good = entity_file_bytes(entity, rows("policy_admin", "policies", 2))
    header, first, second = good.rstrip(b"\n").split(b"\n")
    broken = header + b"\n" + first + b"\n" + second.replace(b"holder_name_0001", b"\xff\xfe") + b"\n"
    write_delivery(lake.landing, "policy_admin", DAY, {"policies": broken})

    result = lake.ingest("policy_admin", "policies")

    assert result.file_error and "gbk" in result.file_error
    assert (result.rows_read, result.rows_loaded, result.quarantine_by_rule) == (2, 0, {"unreadable_file": 2})


def test_bad_utf8_quarantines_the_whole_file(lake):
    entity = CONTRACT.entity("marketing", "consents")
    good = entity_file_bytes(entity, rows("marketing", "consents", 3))
    write_delivery(lake.landing, "marketing", DAY, {"consents": good.replace(b"sms", b"s\xffs", 1)})
    result = lake.ingest("marketing", "consents")
    assert result.file_error and "UTF-8" in result.file_error
    assert (result.rows_read, result.quarantine_by_rule) == (3, {"unreadable_file": 3})


def test_unreadable_parquet_reports_file_error(lake):
    write_delivery(lake.landing, "claims", DAY, {"claims": b"this is not parquet"})
    result = lake.ingest("claims", "claims")
    assert result.file_error and (result.rows_read, result.rows_loaded, result.rows_quarantined) == (0, 0, 0)
    raw = lake.table(RAW, "claims", "claims")
    assert raw.num_rows == 0 and raw.column_names == contract_schema_names("claims", "claims")
    assert raw.schema.field("updated_at").type == pa.timestamp("ms", tz="Asia/Shanghai")


def test_file_missing_from_complete_delivery(lake):
    folder = write_delivery(lake.landing, "bank_core", DAY, {"customers": rows("bank_core", "customers", 1)})
    (folder / "monthly_balances.csv").unlink()
    result = lake.ingest("bank_core", "monthly_balances")
    assert result.status == "loaded" and "missing" in result.file_error and result.rows_read == 0
    assert lake.table(RAW, "bank_core", "monthly_balances").num_rows == 0


# --- empty files, arrival, idempotence ----------------------------------------------------------


def test_empty_files_of_every_format_yield_an_empty_partition(lake):
    for system in CONTRACT.systems:
        write_delivery(lake.landing, system, DAY)  # header-only CSV, empty JSONL, [], zero-row Parquet
    (lake.landing / "underwriting" / DAY.isoformat() / "uw_cases.csv").write_bytes(b"")  # zero bytes
    for entity in CONTRACT.entities:
        result = lake.ingest(entity.system, entity.name)
        assert (result.status, result.rows_read, result.rows_loaded, result.file_error) == ("loaded", 0, 0, None)
        raw = lake.table(RAW, entity.system, entity.name)
        assert raw.num_rows == 0 and raw.column_names == contract_schema_names(entity.system, entity.name)
        assert lake.table(QUARANTINE, entity.system, entity.name).num_rows == 0


def test_arriving_and_not_delivered_write_nothing(lake):
    assert lake.ingest("billing", "payments").status == "not_delivered"
    write_delivery(lake.landing, "billing", DAY, {"payments": rows("billing", "payments", 2)}, complete=False)
    result = lake.ingest("billing", "payments")
    assert result.status == "arriving" and result.rows_read == 0 and result.delivery_id
    assert not lake.lake.exists()


def test_arriving_keeps_the_previous_load(lake):
    write_delivery(lake.landing, "billing", DAY, {"payments": rows("billing", "payments", 2)})
    lake.ingest("billing", "payments")
    (lake.landing / "billing" / DAY.isoformat() / "_SUCCESS").unlink()  # a re-delivery in progress
    assert lake.ingest("billing", "payments").status == "arriving"
    assert len(lake.raw("billing", "payments")) == 2


def count(glob: str) -> int:
    with duckdb.connect() as con:
        return con.execute(f"SELECT count(*) FROM read_parquet('{glob}', union_by_name=true)").fetchall()[0][0]


def test_reingest_is_idempotent(lake):
    data = rows("billing", "payments", 3)
    data[0]["method"] = "bitcoin"
    write_delivery(lake.landing, "billing", DAY, {"payments": data})
    entity = CONTRACT.entity("billing", "payments")

    first = lake.ingest("billing", "payments")
    second = lake.ingest("billing", "payments")

    assert (first.rows_loaded, first.rows_quarantined) == (second.rows_loaded, second.rows_quarantined) == (2, 1)
    assert first.delivery_id == second.delivery_id
    assert count(raw_glob(lake.lake, entity)) == 2
    assert count(quarantine_glob(lake.lake, entity)) == 1
    assert count(ingest_log_glob(lake.lake, entity)) == 1
    leftovers = [p for p in lake.lake.rglob("*") if p.is_file() and p.name != "part-0.parquet"]
    assert leftovers == [] and not list(lake.lake.rglob(".tmp-*"))


def test_redelivery_replaces_the_old_rows(lake):
    entity = CONTRACT.entity("billing", "payments")
    folder = write_delivery(lake.landing, "billing", DAY, {"payments": rows("billing", "payments", 3)})
    first = lake.ingest("billing", "payments")
    before = {d.system: d.delivery_id for d in scan_landing(lake.landing)}["billing"]

    replacement = rows("billing", "payments", 5)[3:]
    write_delivery(lake.landing, "billing", DAY, {"payments": replacement})
    os.utime(folder / "_SUCCESS", ns=(1_800_000_000_000_000_000, 1_800_000_000_000_000_000))
    second = lake.ingest("billing", "payments")

    assert second.delivery_id != first.delivery_id and second.delivery_id != before
    got = lake.raw("billing", "payments")
    assert [r["txn_id"] for r in got] == ["txn_id_0003", "txn_id_0004"]
    assert {r["_delivery_id"] for r in got} == {second.delivery_id}
    assert count(raw_glob(lake.lake, entity)) == 2


def test_scan_landing(lake):
    write_delivery(lake.landing, "billing", DAY, {"payments": rows("billing", "payments", 1)})
    write_delivery(lake.landing, "billing", date(2024, 3, 2), complete=False)
    (lake.landing / "billing" / "not-a-date").mkdir()
    (lake.landing / "unknown_system" / DAY.isoformat()).mkdir(parents=True)

    found = scan_landing(lake.landing)

    assert [(d.system, d.business_date, d.complete) for d in found] == [
        ("billing", DAY, True), ("billing", date(2024, 3, 2), False)
    ]
    assert found[0].arrived_at.tzinfo is not None and found[1].arrived_at is None
    assert scan_landing(lake.landing)[0].delivery_id == found[0].delivery_id  # stable
    (lake.landing / "billing" / DAY.isoformat() / "payments.csv").write_text("txn_id\n")
    assert scan_landing(lake.landing)[0].delivery_id != found[0].delivery_id  # new content, new id


def test_ingest_log_row(lake):
    data = rows("billing", "payments", 2)
    data[1]["method"] = "bitcoin"
    for r in data:
        r["channel_extra"] = "x"
    write_delivery(lake.landing, "billing", DAY, {"payments": data})
    result = lake.ingest("billing", "payments")

    (log,) = lake.table(INGEST_LOG, "billing", "payments").to_pylist()

    assert log["system"] == "billing" and log["entity"] == "payments" and log["business_date"] == DAY
    assert log["status"] == "loaded" and log["source_file"] == "billing/2024-03-01/payments.csv"
    assert (log["rows_read"], log["rows_loaded"], log["rows_quarantined"]) == (2, 1, 1)
    assert json.loads(log["quarantine_by_rule"]) == {"bad_enum": 1}
    assert json.loads(log["extra_columns"]) == ["channel_extra"]
    assert json.loads(log["missing_required_columns"]) == [] and log["file_error"] is None
    assert log["delivery_id"] == result.delivery_id and log["arrived_at"] == result.arrived_at
    metadata = result.to_metadata()
    assert metadata["rows_quarantined"] == 1 and metadata["quarantine_by_rule"] == {"bad_enum": 1}
    assert json.dumps(metadata)  # plain values only


# --- a small simulation, end to end -------------------------------------------------------------

ROW_DEFECT_RULES = {"malformed_row": "malformed_row", "required_missing": "required_missing",
                    "bad_enum": "bad_enum", "bad_date": "bad_type"}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """Every entity of every delivered folder of a small noisy simulation, ingested."""
    from dagster_project.simulator import simulate

    root = tmp_path_factory.mktemp("simulated")
    manifest = simulate(root / "landing", root / "truth", persons=200, days=4, seed=3, noise="high")
    results = [
        ingest_entity_partition(entity, delivery.business_date, root / "landing", root / "lake")
        for delivery in scan_landing(root / "landing")
        for entity in CONTRACT.entities_of(delivery.system)
    ]
    return manifest, results, root / "lake"


def test_simulation_reconciles_every_file(simulated):
    manifest, results, _ = simulated
    delivered = {f"{f['system']}/{f['business_date']}/{name}": rows
                 for f in manifest["folders"] for name, rows in f["files"].items()}
    assert {r.source_file for r in results} == set(delivered)
    for r in results:
        assert r.status == "loaded" and r.file_error is None and r.missing_required_columns == []
        assert r.rows_read == delivered[r.source_file], r.source_file
        assert r.rows_read == r.rows_loaded + r.rows_quarantined, r.source_file


def test_simulation_quarantine_matches_the_injected_defects(simulated):
    manifest, results, lake = simulated
    row_defects = [d for d in manifest["defects"] if d["kind"] in ROW_DEFECT_RULES]
    assert row_defects, "the simulation injected no row defects"

    def quarantined_by_contract(d) -> bool:  # a broken optional value stays in raw, staging flags it
        entity = CONTRACT.entity(d["system"], d["entity"])
        return d["column"] is None or entity.column(d["column"]).required or d["column"] in entity.key

    expected = {(d["file"], d["row_number"], ROW_DEFECT_RULES[d["kind"]], d["column"])
                for d in row_defects if quarantined_by_contract(d)}
    with duckdb.connect() as con:
        got = set(con.execute(
            f"SELECT _source_file, _row_number, rule, column_name FROM read_parquet('{quarantine_glob(lake)}')"
        ).fetchall())
        kept = [d for d in row_defects if not quarantined_by_contract(d)]
        for d in kept:
            entity = CONTRACT.entity(d["system"], d["entity"])
            (count,) = con.execute(
                f"SELECT count(*) FROM read_parquet('{raw_glob(lake, entity)}', union_by_name=true) "
                "WHERE _source_file = ? AND _row_number = ?", [d["file"], d["row_number"]]
            ).fetchall()[0]
            assert count == 1, d
    assert got == expected

    drift = {(d["file"], d["column"]) for d in manifest["defects"] if d["kind"] == "extra_column"}
    assert {(r.source_file, x) for r in results for x in r.extra_columns} == drift
