"""Identity resolution rules on hand-made person records (no warehouse, no simulator).

Each test builds a few int_person_records rows, runs the engine on an in-memory DuckDB and
checks which records share a customer: the deterministic rules, the guards (twins, family
phones, placeholders, enterprises) and the stable ids.
"""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from dagster_project.identity.clustering import ConstrainedUnionFind, components
from dagster_project.identity.config import MatchingConfig, MatchingConfigError, load_config, parse_config
from dagster_project.identity.engine import resolve
from dagster_project.identity.evaluate import oracle_floor
from dagster_project.identity.records import RECORD_COLUMNS
from dagster_project.identity.rules import RIC_CHECK, RIC_WEIGHTS, chars_apart, id_typo_candidates_sql

import yaml

CFG = load_config()
DAY = date(2025, 10, 1)


def ric(body17: str) -> str:
    """A valid resident ID from 17 digits."""
    return body17 + RIC_CHECK[sum(int(c) * w for c, w in zip(body17, RIC_WEIGHTS)) % 11]


ZHANG = ric("11010119800101123")      # 张伟, born 1980-01-01
LI = ric("31010119850505234")         # 李娜
TWIN_A = ric("44030120100707111")     # twins: same birth date, same surname
TWIN_B = ric("44030120100707131")


def mistype(id18: str, pos: int = 10) -> str:
    d = (int(id18[pos]) + 3) % 10
    return id18[:pos] + str(d) + id18[pos + 1:]


def rec(system: str, record_id: str, *, name=None, pinyin=None, id_no=None, kind=None, mobile=None,
        birth=None, gender=None, policy=None, role=None, relation=None, agent=None, party="person",
        id_type=None, sha=None, unionid=None, resolvable=True, first_seen=DAY, nickname=False, junk_mobile=False):
    if kind is None:
        kind = "missing" if id_no is None else "valid"
    if sha is None and id_no and kind in ("valid", "bad_check_digit") and id_type in (None, "resident_id") and party == "person":
        sha = hashlib.sha256(id_no.encode()).hexdigest()  # as int_person_records computes it
    entity, default_role = {
        "policy_admin": ("policies", "holder"), "agent_crm": ("leads", "lead"), "claims": ("claims", "claimant"),
        "call_center": ("tickets", "caller"), "app_events": ("users", "app_user"), "bank_core": ("customers", "bank_customer"),
        "scrm_wechat": ("contacts", "wecom_contact"), "external_data": ("risk_bands", "bands_subject"),
        "underwriting": ("uw_cases", "applicant"),
    }[system]
    return {
        "source_system": system, "source_entity": entity, "role": role or default_role, "source_record_id": record_id,
        "party_type": party, "name": name, "name_pinyin_key": pinyin, "name_is_nickname": nickname,
        "id_type": id_type or ("resident_id" if id_no else None), "id_no": id_no,
        "id_no_valid": {"valid": True, "upgraded_15": True, "bad_check_digit": False}.get(kind),
        "id_no_kind": kind, "id_no_is_junk": bool(id_no) and len(set(id_no)) == 1,
        "id_no_sha256": sha, "mobile": mobile, "mobile_valid": mobile is not None,
        "mobile_is_junk": junk_mobile if mobile is not None else None, "birth_date": birth, "gender": gender,
        "birth_date_from_id": date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14])) if kind == "valid" and id_no and id_type in (None, "resident_id") and party == "person" else None,
        "gender_from_id": None, "wechat_id": None, "unionid": unionid, "policy_no": policy,
        "relation_to_holder": relation, "agent_code": agent, "is_resolvable": resolvable, "first_seen_date": first_seen,
    }


def background(n: int = 60) -> list[dict]:
    """People known by a valid ID, each with two records (the labelled pairs that train m/u)."""
    rows = []
    rng = np.random.default_rng(0)
    surnames = [("王", "WANG"), ("陈", "CHEN"), ("刘", "LIU"), ("赵", "ZHAO")]
    given = [("强", "QIANG"), ("敏", "MIN"), ("磊", "LEI"), ("静", "JING"), ("涛", "TAO"), ("燕", "YAN")]
    for i in range(n):
        s, g = surnames[i % 4], given[(i // 4) % 6]
        idn = ric(f"5101011970{(i % 12) + 1:02d}{(i % 27) + 1:02d}{i % 1000:03d}")
        mobile = f"139{i:08d}"
        name, key = s[0] + g[0] + str(i), f"{s[1]} {g[1]}{i}"
        rows.append(rec("policy_admin", f"BG{i}:holder", name=name, pinyin=key, id_no=idn, mobile=mobile, policy=f"BG{i}"))
        rows.append(rec("bank_core", f"BGC{i}", name=name, pinyin=key, id_no=idn,
                        mobile=mobile if rng.random() < 0.8 else None))
        rows.append(rec("agent_crm", f"BGL{i}", name=name, pinyin=key, mobile=mobile))
    return rows


def records_table(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict]) -> None:
    """Table `name` with the int_person_records columns, from rec() rows."""
    types = {"name_is_nickname": pa.bool_(), "id_no_valid": pa.bool_(), "id_no_is_junk": pa.bool_(),
             "mobile_valid": pa.bool_(), "mobile_is_junk": pa.bool_(), "is_resolvable": pa.bool_(),
             "birth_date": pa.date32(), "birth_date_from_id": pa.date32(), "first_seen_date": pa.date32()}
    schema = pa.schema([(c, types.get(c, pa.string())) for c in RECORD_COLUMNS])
    con.register("_rows", pa.Table.from_pylist([{c: r.get(c) for c in RECORD_COLUMNS} for r in rows], schema=schema))
    con.execute(f"create table {name} as select * from _rows")
    con.unregister("_rows")


def run(rows: list[dict], previous: list[dict] | None = None, cfg=CFG) -> dict[str, str]:
    con = duckdb.connect()
    records_table(con, "person_records", rows)
    prev = None
    if previous is not None:
        con.register("_prev", pa.Table.from_pylist(previous))
        con.execute("create table prev as select * from _prev")
        prev = "prev"
    resolve(con, "person_records", cfg, previous=prev)
    out = {r: c for r, c in con.execute("select source_record_id, customer_id from xref").fetchall()}
    run.last = con.sql("select * from xref").to_arrow_table().to_pylist()
    run.events = con.execute("select * from id_events").fetchall()
    return out


def with_linkage(**overrides) -> MatchingConfig:
    """The shipped matching.yaml with some `linkage` settings changed."""
    doc = yaml.safe_load(open("dagster_project/identity/matching.yaml", encoding="utf-8"))
    return parse_config({**doc, "linkage": {**doc["linkage"], **overrides}})


def same(ids: dict, *keys: str) -> bool:
    return len({ids[k] for k in keys}) == 1


# ------------------------------------------------------------------------------------ config


def test_config_loads_and_rejects_bad_values():
    assert CFG.linkage.link_probability < 1
    doc = yaml.safe_load(open("dagster_project/identity/matching.yaml", encoding="utf-8"))
    doc["linkage"]["link_probability"] = 1.5
    with pytest.raises(MatchingConfigError, match="link_probability"):
        parse_config(doc)
    doc = yaml.safe_load(open("dagster_project/identity/matching.yaml", encoding="utf-8"))
    doc["linkage"]["surprise"] = 1
    with pytest.raises(MatchingConfigError, match="unknown keys"):
        parse_config(doc)
    doc = yaml.safe_load(open("dagster_project/identity/matching.yaml", encoding="utf-8"))
    doc["blocking"]["rules"] = ["mobile", "horoscope"]
    with pytest.raises(MatchingConfigError, match="horoscope"):
        parse_config(doc)
    doc = yaml.safe_load(open("dagster_project/identity/matching.yaml", encoding="utf-8"))
    del doc["deterministic"]["same_bad_id"]
    with pytest.raises(MatchingConfigError, match="missing keys"):
        parse_config(doc)


# ------------------------------------------------------------------------------- primitives


def test_typo_candidates_recover_the_valid_id():
    con = duckdb.connect()
    for pos in range(6, 17):
        bad = mistype(ZHANG, pos)
        cands = {c for _, c in con.execute(f"select * from ({id_typo_candidates_sql(repr(bad))})").fetchall()}
        assert ZHANG in cands
        assert len(cands) <= 18
        assert all(ric(c[:17]) == c for c in cands)  # every candidate passes the check digit


def test_constrained_union_find_keeps_anchors_and_conflicts_apart():
    uf = ConstrainedUnionFind(5, anchors={0: "A", 1: "B"}, conflicts=[(2, 3)])
    assert uf.union(0, 2)
    assert not uf.union(2, 1)      # would join anchors A and B
    assert uf.union(3, 4)
    assert not uf.union(4, 0)      # 4's set holds 3, which conflicts with 2 in 0's set
    labels = uf.labels()
    assert labels[2] == labels[0] and labels[1] == 1 and labels[3] == labels[4] == 3
    assert list(components(4, np.array([0, 2]), np.array([1, 3]))) == [0, 0, 2, 2]


# ---------------------------------------------------------------------- deterministic rules


def test_a_valid_id_is_decisive_and_two_valid_ids_never_merge():
    rows = background() + [
        rec("policy_admin", "P1:holder", name="张伟", pinyin="ZHANG WEI", id_no=ZHANG, policy="P1"),
        rec("bank_core", "C1", name="ZHANG WEI", pinyin="ZHANG WEI", id_no=ZHANG, id_type="resident_id"),
        rec("app_events", "U1", name="张伟", pinyin="ZHANG WEI", id_no=ZHANG, mobile="13712345670"),
        # a namesake born the same day, other ID, same mobile: never the same customer
        rec("agent_crm", "L1", name="张伟", pinyin="ZHANG WEI", id_no=ric("11010119800101155"), mobile="13712345670"),
    ]
    ids = run(rows)
    assert same(ids, "P1:holder", "C1", "U1")
    assert ids["L1"] != ids["P1:holder"]


def test_typo_hash_and_self_relation_join_the_id():
    rows = background() + [
        rec("policy_admin", "P1:holder", name="张伟", pinyin="ZHANG WEI", id_no=ZHANG, policy="P1"),
        rec("policy_admin", "P1:insured", name="张伟", pinyin="ZHANG WEI", policy="P1", role="insured", relation="self"),
        rec("claims", "CL1", name="张伟", pinyin="ZHANG WEI", id_no=mistype(ZHANG), kind="bad_check_digit", policy="P1"),
        rec("external_data", "h1", sha=hashlib.sha256(ZHANG.encode()).hexdigest()),
        rec("external_data", "h2", sha=hashlib.sha256(b"nobody").hexdigest()),
    ]
    ids = run(rows)
    assert same(ids, "P1:holder", "P1:insured", "CL1", "h1")
    assert ids["h2"] != ids["h1"]
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert rules["CL1"] == "id_typo" and rules["h1"] == "id_hash" and rules["P1:insured"] == "policy_self"
    assert rules["h2"] == "singleton"


def test_enterprise_never_joins_a_person_and_placeholders_never_link():
    uscc = "91310000MA1FL0000X"
    rows = background() + [
        rec("policy_admin", "G1:holder", name="上海某某科技有限公司", id_no=uscc, party="enterprise",
            id_type="unified_social_credit_code", mobile="13800138001", policy="G1"),
        rec("bank_core", "C9", name="上海某某科技有限公司", id_no=uscc, party="enterprise", id_type="unified_social_credit_code"),
        rec("app_events", "U9", name="上海某某科技有限公司", pinyin="SHANG HAI", mobile="13800138001"),
        # placeholders: the same junk mobile and the same junk ID on strangers
        rec("app_events", "J1", mobile="13800000000", junk_mobile=True, resolvable=False),
        rec("app_events", "J2", mobile="13800000000", junk_mobile=True, resolvable=False),
        rec("bank_core", "J3", name="刘洋", pinyin="LIU YANG", id_no="000000000000000000", id_type="passport", kind="unchecked"),
        rec("bank_core", "J4", name="周杰", pinyin="ZHOU JIE", id_no="000000000000000000", id_type="passport", kind="unchecked"),
    ]
    ids = run(rows)
    assert same(ids, "G1:holder", "C9")
    assert ids["U9"] != ids["G1:holder"]
    assert len({ids["J1"], ids["J2"], ids["J3"], ids["J4"]}) == 4
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert rules["J1"] == rules["J2"] == "unresolvable"


def test_document_numbers_and_typo_shaped_ids():
    """A permit number is decisive whether its type was delivered or read from its form, and a
    full-shape ID with an impossible birth date is a typo of the valid ID one digit away."""
    permit = "H12345678"
    bad_date = ZHANG[:10] + "3" + ZHANG[11:]             # month 31: malformed, not a bad check digit
    rows = background() + [
        rec("policy_admin", "P7:holder", name="陳大文", pinyin="CHEN DAWEN", id_no=permit, id_type="hk_macau_permit",
            kind="unchecked", policy="P7"),
        rec("claims", "CL7", name="陈大文", pinyin="CHEN DAWEN", id_no=permit, id_type="hk_macau_permit", kind="unchecked"),
        rec("policy_admin", "P1:holder", name="张伟", pinyin="ZHANG WEI", id_no=ZHANG, policy="P1"),
        rec("underwriting", "UW1", name="张伟", pinyin="ZHANG WEI", id_no=bad_date, kind="malformed"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "P7:holder", "CL7") and rules["CL7"] == "document_no"
    assert same(ids, "P1:holder", "UW1") and rules["UW1"] == "id_typo"


def test_external_hash_of_a_typo_joins_the_id():
    """The vendor hashed a typo of an ID a record holds; or a record holds a typo of the ID the
    vendor hashed: either joins the one ID that explains the hash. An unexplained hash stays alone."""
    li_bad = mistype(LI, 12)
    other = ric("44010119751111222")
    rows = background() + [
        rec("policy_admin", "P1:holder", name="张伟", pinyin="ZHANG WEI", id_no=ZHANG, policy="P1"),
        rec("external_data", "hz", sha=hashlib.sha256(mistype(ZHANG, 9).encode()).hexdigest()),
        rec("claims", "CL2", name="李娜", pinyin="LI NA", id_no=li_bad, kind="bad_check_digit"),
        rec("external_data", "hl", sha=hashlib.sha256(LI.encode()).hexdigest()),
        rec("external_data", "hn", sha=hashlib.sha256(mistype(other, 9).encode()).hexdigest()),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "P1:holder", "hz") and rules["hz"] == "id_hash_typo"
    assert same(ids, "CL2", "hl") and rules["hl"] == "id_hash_typo"
    assert ids["hn"] not in (ids["P1:holder"], ids["CL2"]) and rules["hn"] == "singleton"


def test_a_mobile_one_customer_holds_identifies_a_nameless_record():
    """A record that names nobody (an unverified app account, a caller who left only a number)
    joins the one adult customer holding its mobile; a number two named adults hold links
    nothing; a child's records carry a parent's number; nameless records on a number no named
    customer holds are one customer."""
    own, family, kid_phone, orphan = "13700001111", "13700002222", "13700003333", "13700004444"
    kid_id = ric("11010120150601123")
    rows = background() + [
        rec("policy_admin", "A1:holder", name="周杰", pinyin="ZHOU JIE", id_no=ric("11010119800202123"), mobile=own,
            policy="A1"),
        rec("app_events", "UA", mobile=own),
        rec("call_center", "TA", mobile=own),
        # a husband and wife both on the family phone: a nameless account may be either
        rec("policy_admin", "B1:holder", name="吴刚", pinyin="WU GANG", id_no=ric("11010119750303123"), mobile=family,
            policy="B1"),
        rec("bank_core", "B2", name="郑丽", pinyin="ZHENG LI", id_no=ric("11010119780404124"), mobile=family),
        rec("app_events", "UB", mobile=family),
        # a mother and her young son's claim on her number: the account is the adult's
        rec("policy_admin", "C1:holder", name="孙梅", pinyin="SUN MEI", id_no=ric("11010119850505124"), mobile=kid_phone,
            policy="C1"),
        rec("claims", "CC1", name="孙小宝", pinyin="SUN XIAOBAO", id_no=kid_id, mobile=kid_phone, policy="C1"),
        rec("app_events", "UC", mobile=kid_phone),
        # two nameless records on a number nobody named holds
        rec("app_events", "UD", mobile=orphan),
        rec("call_center", "TD", mobile=orphan),
        # a privacy request on the holder's number: never matched by the number alone
        rec("call_center", "PR1", mobile=own, role="requester"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "A1:holder", "UA", "TA") and rules["UA"] == rules["TA"] == "mobile_exclusive"
    assert ids["UB"] not in (ids["B1:holder"], ids["B2"]) and ids["B1:holder"] != ids["B2"]
    assert same(ids, "C1:holder", "UC") and ids["CC1"] != ids["C1:holder"]
    assert same(ids, "UD", "TD")
    assert ids["PR1"] != ids["A1:holder"]
    off = with_linkage(mobile_exclusive_links=False)
    ids_off = run(rows, cfg=off)
    assert ids_off["UA"] != ids_off["A1:holder"]


def test_a_nameless_caller_joins_the_holder_of_the_policy_it_calls_about_when_no_number_disagrees():
    """A holder with no number known takes a nameless caller asking about the holder's policy
    from a number no named customer holds. On a family phone the policy does not break the tie
    (a spouse calls about the partner's policy); a caller on another named customer's number (a
    relative asking about the policy) is that customer."""
    family, fresh, neighbour = "13700002222", "13700005555", "13700006666"
    rows = background() + [
        rec("policy_admin", "B1:holder", name="吴刚", pinyin="WU GANG", id_no=ric("11010119750303123"), mobile=family,
            policy="B1"),
        rec("bank_core", "B2", name="郑丽", pinyin="ZHENG LI", id_no=ric("11010119780404124"), mobile=family),
        rec("call_center", "TB", mobile=family, policy="B1"),
        rec("policy_admin", "D1:holder", name="冯军", pinyin="FENG JUN", id_no=ric("11010119700101123"), policy="D1"),
        rec("call_center", "TD", mobile=fresh, policy="D1"),
        rec("bank_core", "E1", name="褚红", pinyin="CHU HONG", id_no=ric("11010119720707124"), mobile=neighbour),
        rec("call_center", "TE", mobile=neighbour, policy="D1"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert ids["TB"] not in (ids["B1:holder"], ids["B2"]) and ids["B2"] != ids["B1:holder"]
    assert same(ids, "D1:holder", "TD") and rules["TD"] == "caller_policy"
    assert same(ids, "TE", "E1") and ids["TE"] != ids["D1:holder"]  # the number's holder, by the mobile


def test_a_rare_name_alone_links_only_without_a_contradiction():
    """Two records that agree on a rare name and nothing else link, unless their mobiles (or
    birth dates) disagree: then they are namesakes as far as the data can tell."""
    rows = background() + [
        rec("policy_admin", "N1:holder", name="欧阳明轩", pinyin="OUYANG MINGXUAN", id_no=ric("31010119880808123"),
            policy="N1"),
        rec("agent_crm", "LN1", name="欧阳明轩", pinyin="OUYANG MINGXUAN", mobile="13600001234", agent="A1"),
        rec("policy_admin", "N2:holder", name="司马晓岚", pinyin="SIMA XIAOLAN", id_no=ric("31010119890909124"),
            mobile="13600005678", policy="N2"),
        rec("agent_crm", "LN2", name="司马晓岚", pinyin="SIMA XIAOLAN", mobile="13600009999", agent="A2"),
    ]
    ids = run(rows)
    assert same(ids, "N1:holder", "LN1")
    assert ids["LN2"] != ids["N2:holder"]


def test_names_are_compared_by_character_not_by_byte():
    """DuckDB's levenshtein counts UTF-8 bytes: 张平玲 / 张平炜 are 2 apart there, 1 character here."""
    con = duckdb.connect()
    got = con.execute(f"""select {chars_apart("'张平玲'", "'张平炜'")}, {chars_apart("'张平玲'", "'张平玲'")},
                                 {chars_apart("'张平玲'", "'李思炜'")}""").fetchall()[0]
    assert got == (1, 0, 3)


def test_a_rare_name_many_records_carry_is_still_a_rare_name():
    """The name block counts parties, not records: a known person's seven records of a rare name
    do not make it common, so a lead known by that name alone still finds them."""
    idn = ric("31010119880808123")
    rows = background() + [
        rec("policy_admin", f"M{i}:holder", name="欧阳明轩", pinyin="OUYANG MINGXUAN", id_no=idn, policy=f"M{i}")
        for i in range(7)
    ] + [rec("agent_crm", "LM1", name="欧阳明轩", pinyin="OUYANG MINGXUAN", agent="A1")]
    ids = run(rows)
    assert same(ids, "M0:holder", "M6:holder", "LM1")


def test_a_name_alone_never_chains_a_child_into_a_namesake_adult():
    """A name-only link is judged between the two customers it would join: an insured child
    (born 2022 on its underwriting case) does not join an adult namesake through its own
    insured record, which carries no birth date."""
    # insured lives underwritten on their policy: the labelled pairs that teach the policy link
    insured = [r for i in range(12) for r in (
        rec("policy_admin", f"P{i}:insured", name=f"孙丽{i}", pinyin=f"SUN LI{i}", id_no=ric(f"4401012015060{i % 9 + 1}{i:03d}"),
            policy=f"P{i}", role="insured", relation="child"),
        rec("underwriting", f"UP{i}", name=f"孙丽{i}", pinyin=f"SUN LI{i}", id_no=ric(f"4401012015060{i % 9 + 1}{i:03d}"),
            policy=f"P{i}"))]
    rows = background() + insured + [
        rec("policy_admin", "A1:holder", name="欧阳明轩", pinyin="OUYANG MINGXUAN", id_no=ric("31010119850505123"),
            mobile="13600001234", policy="A1"),
        rec("policy_admin", "C1:insured", name="欧阳明轩", pinyin="OUYANG MINGXUAN", policy="C1", role="insured",
            relation="child"),
        rec("underwriting", "UC1", name="欧阳明轩", pinyin="OUYANG MINGXUAN", birth=date(2022, 10, 18), policy="C1"),
    ]
    ids = run(rows)
    assert same(ids, "C1:insured", "UC1")
    assert ids["C1:insured"] != ids["A1:holder"]


def test_a_name_with_the_agent_one_customer_holds_identifies_a_contact():
    """A WeCom contact whose nickname is a customer's real name, added by the agent of that
    customer's policy, is that customer; the same nickname under another agent joins only
    because no other customer holds the name (`name_exclusive`), and a name and agent two
    customers hold (namesakes with one agent) links nothing."""
    rows = background() + [
        rec("policy_admin", "W1:holder", name="李嘉", pinyin="LI JIA", id_no=ric("33010220000527432"),
            mobile="13600002001", policy="W1", agent="A129"),
        rec("scrm_wechat", "WX1", name="李嘉", pinyin="LI JIA", nickname=True, agent="A129"),
        rec("scrm_wechat", "WX2", name="李嘉", pinyin="LI JIA", nickname=True, agent="A777"),
        # two customers named 王静, both the agent A092's
        rec("policy_admin", "W3:holder", name="王静", pinyin="WANG JING", id_no=ric("44010619881228802"),
            mobile="13600002003", policy="W3", agent="A092"),
        rec("policy_admin", "W4:holder", name="王静", pinyin="WANG JING", id_no=ric("44010619900101802"),
            mobile="13600002004", policy="W4", agent="A092"),
        rec("scrm_wechat", "WX3", name="王静", pinyin="WANG JING", nickname=True, agent="A092"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "W1:holder", "WX1") and rules["WX1"] == "name_agent"
    # under another agent, only the name's exclusivity (the pass after the mobile one) joins it
    assert same(ids, "W1:holder", "WX2") and rules["WX2"] == "name_exclusive"
    assert ids["WX3"] not in (ids["W3:holder"], ids["W4:holder"]) and ids["W3:holder"] != ids["W4:holder"]
    ids_agent = run(rows, cfg=with_linkage(name_exclusive_links=False))
    assert same(ids_agent, "W1:holder", "WX1") and ids_agent["WX2"] != ids_agent["W1:holder"]
    off = with_linkage(name_agent_links=False, name_exclusive_links=False)
    ids_off = run(rows, cfg=off)
    assert ids_off["WX1"] != ids_off["W1:holder"]


def test_a_name_one_customer_holds_identifies_a_record_known_by_name_alone():
    """After every other pass, a lead or a group insured known only by a name joins the one
    customer holding that name (in characters: a homophone namesake shares the pinyin key, which
    keeps the pair score below the link); a name two customers hold, a lead whose number disagrees with the
    customer's (unless it calls about the customer's policy: a new number), and a privacy request (a wrong
    match would export someone else's data) stay apart."""
    rows = background() + [
        rec("policy_admin", "X1:holder", name="叶怡林", pinyin="YE YILIN", id_no=ric("51010719740202692"),
            mobile="13600003001", policy="X1"),
        rec("policy_admin", "GX1:insured", name="叶怡林", pinyin="YE YILIN", policy="GX1", role="insured",
            relation="employee"),
        rec("policy_admin", "X5:holder", name="欧阳明轩", pinyin="OUYANG MINGXUAN", id_no=ric("31010119880808123"),
            policy="X5"),
        rec("policy_admin", "X6:holder", name="欧阳明宣", pinyin="OUYANG MINGXUAN", id_no=ric("31010119900909123"),
            policy="X6"),
        rec("call_center", "PRX", name="欧阳明轩", pinyin="OUYANG MINGXUAN", role="requester"),
        # a homophone namesake: the pinyin key is shared, so the pair score alone does not link
        rec("policy_admin", "X9:holder", name="叶宜林", pinyin="YE YILIN", id_no=ric("51010719800101692"),
            mobile="13600003009", policy="X9"),
        rec("policy_admin", "X2:holder", name="周洋", pinyin="ZHOU YANG", id_no=ric("31010119750807319"), policy="X2"),
        rec("bank_core", "X3", name="周洋", pinyin="ZHOU YANG", id_no=ric("31010119800101319")),
        rec("agent_crm", "LX2", name="周洋", pinyin="ZHOU YANG", agent="A067"),
        rec("policy_admin", "X4:holder", name="贺梅琪", pinyin="HE MEIQI", id_no=ric("31010119820303124"),
            mobile="13600003004", policy="X4"),
        rec("agent_crm", "LX4", name="贺梅琪", pinyin="HE MEIQI", mobile="13600003999", agent="A113"),
        # the same, but from the new number the caller asks about the customer's policy: a number change
        rec("policy_admin", "X7:holder", name="孙婷婧", pinyin="SUN TINGJING", id_no=ric("44030319770602702"),
            mobile="13600003007", policy="X7"),
        rec("call_center", "TX7", name="孙婷婧", pinyin="SUN TINGJING", mobile="13600003777", policy="X7"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "X1:holder", "GX1:insured") and rules["GX1:insured"] == "name_exclusive"
    assert ids["PRX"] != ids["X5:holder"]
    assert ids["LX2"] not in (ids["X2:holder"], ids["X3"])
    assert ids["LX4"] != ids["X4:holder"]
    assert same(ids, "X7:holder", "TX7")
    off = with_linkage(name_exclusive_links=False)
    ids_off = run(rows, cfg=off)
    assert ids_off["GX1:insured"] != ids_off["X1:holder"]


def test_a_name_one_character_off_on_the_customer_number_needs_the_same_agent():
    """A lead one character off the holder's name on the holder's number is the holder when the
    same agent opened it (the agent typed the name); without the agent it may be a sibling."""
    phone = "13600004001"
    # labelled pairs showing an agent's lead typed one character off the ID-holding customer
    # (a level the labelled pairs never show says nothing to the model)
    typed = [r for i in range(20) for r in (
        rec("policy_admin", f"AT{i}:holder", name=f"钱{i}明", pinyin=f"QIAN {i}MING", id_no=ric(f"3201021975{i % 12 + 1:02d}01{i:03d}"),
            mobile=f"1350000{i:04d}", policy=f"AT{i}", agent=f"A{i % 4}"),
        rec("agent_crm", f"ATL{i}", name=f"钱{i}亮", pinyin=f"QIAN {i}LIANG", id_no=ric(f"3201021975{i % 12 + 1:02d}01{i:03d}"),
            mobile=f"1350000{i:04d}", agent=f"A{i % 4}"))]
    rows = background() + typed + [
        rec("policy_admin", "Y1:holder", name="吴鑫波", pinyin="WU XINBO", id_no=ric("42010319641018607"),
            mobile=phone, policy="Y1", agent="A061"),
        rec("bank_core", "YC1", name="吴鑫波", pinyin="WU XINBO", id_no=ric("42010319641018607"), mobile=phone),
        rec("agent_crm", "LY1", name="吴鑫佳", pinyin="WU XINJIA", mobile=phone, agent="A061"),
        rec("agent_crm", "LY2", name="吴鑫雨", pinyin="WU XINYU", mobile=phone, agent="A500"),
    ]
    # the pairwise rule alone (name_typo_mobile, below, reads the number's other holders)
    ids = run(rows, cfg=with_linkage(name_typo_mobile_links=False))
    assert same(ids, "Y1:holder", "YC1", "LY1")
    assert ids["LY2"] != ids["Y1:holder"]


def test_a_name_one_character_off_on_a_number_one_customer_holds_is_that_customer():
    """Once the customers are known: a lead one character off the name of the one named customer
    holding its number is that customer whatever the agent; on a family phone (two named adults
    hold it) it stays apart, and so does a name one character off that another customer carries
    (a twin's own name)."""
    rows = background() + [
        rec("policy_admin", "Z1:holder", name="吴鑫波", pinyin="WU XINBO", id_no=ric("42010319641018607"),
            mobile="13600005001", policy="Z1", agent="A061"),
        rec("agent_crm", "LZ1", name="吴鑫佳", pinyin="WU XINJIA", mobile="13600005001", agent="A500"),
        # a family phone: the holder and the spouse hold it
        rec("policy_admin", "Z2:holder", name="陈晓东", pinyin="CHEN XIAODONG", id_no=ric("42010319700301603"),
            mobile="13600005002", policy="Z2"),
        rec("policy_admin", "Z3:holder", name="林美玲", pinyin="LIN MEILING", id_no=ric("42010319720405604"),
            mobile="13600005002", policy="Z3"),
        rec("agent_crm", "LZ2", name="陈晓冬", pinyin="CHEN XIAODONG", mobile="13600005002", agent="A501"),
        # twins: the lead's name is the other twin's, who holds no number
        rec("policy_admin", "Z4:holder", name="黄明华", pinyin="HUANG MINGHUA", id_no=ric("44030119950707111"),
            mobile="13600005004", policy="Z4"),
        rec("bank_core", "Z5", name="黄明花", pinyin="HUANG MINGHUA", id_no=ric("44030119950707131")),
        rec("agent_crm", "LZ4", name="黄明花", pinyin="HUANG MINGHUA", mobile="13600005004", agent="A502"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "Z1:holder", "LZ1") and rules["LZ1"] == "name_typo_mobile"
    assert ids["LZ2"] not in (ids["Z2:holder"], ids["Z3:holder"])
    assert ids["LZ4"] != ids["Z4:holder"]
    ids_off = run(rows, cfg=with_linkage(name_typo_mobile_links=False))
    assert ids_off["LZ1"] != ids_off["Z1:holder"]


def test_a_caller_giving_the_holders_name_is_the_holder():
    """A caller calling about a policy and giving its holder's name, or that name one character
    off, is the holder, from whatever number (a new one); a caller giving another name (a
    relative calling) stays apart. An exact name counts even when other customers carry it."""
    rows = background() + [
        rec("policy_admin", "K1:holder", name="张子杰", pinyin="ZHANG ZIJIE", id_no=ric("11010519790828512"),
            mobile="13600006001", policy="K1"),
        rec("call_center", "TK1", name="张子洁", pinyin="ZHANG ZIJIE", mobile="13600006999", policy="K1"),
        rec("call_center", "TK2", name="孙丽", pinyin="SUN LI", mobile="13600006998", policy="K1"),
        rec("policy_admin", "K2:holder", name="张林", pinyin="ZHANG LIN", id_no=ric("11010519911023512"),
            mobile="13600006002", policy="K2"),
        rec("policy_admin", "K3:holder", name="张林", pinyin="ZHANG LIN", id_no=ric("11010519850101512"),
            mobile="13600006003", policy="K3"),
        rec("call_center", "TK3", name="张林", pinyin="ZHANG LIN", policy="K2"),
    ]
    ids = run(rows)
    rules = {r["source_record_id"]: r["match_rule"] for r in run.last}
    assert same(ids, "K1:holder", "TK1") and rules["TK1"] == "caller_policy_name"
    assert ids["TK2"] != ids["K1:holder"]
    assert same(ids, "K2:holder", "TK3") and ids["TK3"] != ids["K3:holder"]
    ids_off = run(rows, cfg=with_linkage(caller_policy_name_links=False))
    assert ids_off["TK1"] != ids_off["K1:holder"]


# --------------------------------------------------------------------------------- guards


def test_twins_sharing_birth_surname_and_phone_stay_apart():
    home = "13655556666"
    rows = background() + [
        rec("policy_admin", "T1:insured", name="黄明华", pinyin="HUANG MINGHUA", id_no=TWIN_A, policy="T1", role="insured",
            relation="child"),
        rec("policy_admin", "T2:insured", name="黄明花", pinyin="HUANG MINGHUA", id_no=TWIN_B, policy="T2", role="insured",
            relation="child"),
        rec("claims", "CT1", name="黄明华", pinyin="HUANG MINGHUA", id_no=TWIN_A, mobile=home, policy="T1"),
        rec("claims", "CT2", name="黄明花", pinyin="HUANG MINGHUA", id_no=TWIN_B, mobile=home, policy="T2"),
        # a claim without ID whose name is a homophone of both: it may join neither wrongly
        rec("claims", "CT3", name="黄明化", pinyin="HUANG MINGHUA", mobile=home, policy="T9"),
    ]
    ids = run(rows)
    assert ids["T1:insured"] != ids["T2:insured"]
    assert same(ids, "T1:insured", "CT1") and same(ids, "T2:insured", "CT2")
    assert ids["CT3"] not in (ids["CT1"], ids["CT2"])  # equally close to both twins: joins neither


def test_family_members_sharing_a_mobile_are_not_merged():
    phone = "13911112222"
    rows = background() + [
        rec("policy_admin", "F1:holder", name="王建国", pinyin="WANG JIANGUO", id_no=ric("11010119700303123"),
            mobile=phone, policy="F1"),
        rec("bank_core", "FC1", name="王建国", pinyin="WANG JIANGUO", id_no=ric("11010119700303123"), mobile=phone),
        # his wife and his son use the same phone: different names
        rec("call_center", "TK1", name="李秀英", pinyin="LI XIUYING", mobile=phone, policy="F1"),
        rec("agent_crm", "LD1", name="王小明", pinyin="WANG XIAOMING", mobile=phone),
        # a caller with only the phone: may be anyone in the household -> own customer
        rec("call_center", "TK2", mobile=phone),
        # the holder himself calling: name and phone agree
        rec("call_center", "TK3", name="王建国", pinyin="WANG JIANGUO", mobile=phone),
    ]
    ids = run(rows)
    assert ids["TK1"] != ids["F1:holder"]
    assert ids["LD1"] != ids["F1:holder"]
    assert ids["TK2"] != ids["F1:holder"]
    assert same(ids, "F1:holder", "FC1", "TK3")


# ----------------------------------------------------------------------------- stable ids


def test_ids_survive_a_second_run_and_a_merge_keeps_the_older_id():
    early, late, later = date(2025, 9, 1), date(2025, 10, 1), date(2025, 10, 2)
    zhao = ric("32010119900909123")
    day1 = background() + [
        rec("agent_crm", "X1", name="赵敏", pinyin="ZHAO MIN", mobile="13566667777", first_seen=early),
        # her verified app account shows another number: a namesake as far as day 1 can tell
        rec("app_events", "Y1", name="赵敏", pinyin="ZHAO MIN", id_no=zhao, mobile="13599990000", first_seen=late),
    ]
    first = run(day1)
    assert first["X1"] != first["Y1"]          # nothing links them yet
    previous = run.last
    # the same data again: every id kept, nothing recorded
    assert run(day1, previous=previous) == first and run.events == []
    # day 2: a bank record carries both the ID and the mobile -> the two customers merge
    day2 = day1 + [rec("bank_core", "Z1", name="赵敏", pinyin="ZHAO MIN", id_no=zhao, mobile="13566667777",
                       first_seen=later)]
    second = run(day2, previous=previous)
    assert same(second, "X1", "Y1", "Z1")
    assert second["X1"] == first["X1"]         # the older customer (first seen earlier) survives
    assert ("merge", first["Y1"], first["X1"]) in {e[:3] for e in run.events}
    assert all(second[k] == v for k, v in first.items() if k not in ("Y1",))
    # a rebuild from scratch names every record the same way
    assert run(day2) == second


# ----------------------------------------------------------------------------- evaluation


def test_oracle_floor_splits_only_persons_whose_records_share_no_identifier():
    """The oracle links a true person's records that share an identifier value (directly or
    through another of the person's records) and nothing else: a person with a record sharing
    nothing is split, whatever the resolver did; values shared across persons link nothing."""
    rows = [
        # P1: holder and app account share the mobile, the claim shares the ID; the WeCom contact
        # (a nickname, no remark) shares nothing -> P1's 4 records count as split
        rec("policy_admin", "A:holder", name="周杰", pinyin="ZHOU JIE", id_no=ZHANG, mobile="13700001111", policy="A"),
        rec("app_events", "UA", mobile="13700001111"),
        rec("claims", "CA", name="周杰伦", pinyin="ZHOU JIELUN", id_no=ZHANG),
        rec("scrm_wechat", "WA", name="向日葵", pinyin="XIANG RIKUI", nickname=True),
        # P2: two leads with one name -> one part
        rec("agent_crm", "L1", name="李娜", pinyin="LI NA"),
        rec("agent_crm", "L2", name="李娜", pinyin="LI NA"),
        # P3: shares P1's mobile (another person's: links nothing), one record -> one part
        rec("call_center", "T3", mobile="13700001111"),
        # P4: two records sharing nothing, one of them unresolvable (not counted) -> one part
        rec("agent_crm", "L4", name="赵敏", pinyin="ZHAO MIN"),
        rec("call_center", "T4", policy="Z9", resolvable=False),
    ]
    person = {"A:holder": "P1", "UA": "P1", "CA": "P1", "WA": "P1", "L1": "P2", "L2": "P2", "T3": "P3",
              "L4": "P4", "T4": "P4"}
    con = duckdb.connect()
    records_table(con, "records", rows)
    con.execute("create table truth as select source_system, source_record_id, person_id from records "
                "join (select unnest($1) as source_record_id, unnest($2) as person_id) using (source_record_id)",
                [list(person), list(person.values())])
    con.execute("create view pred as select source_system, source_record_id, is_resolvable from records")
    assert oracle_floor(con, "pred", "truth", "records") == pytest.approx(4 / 8)
