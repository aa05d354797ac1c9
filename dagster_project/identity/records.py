"""Person records in, matching columns out: the `recs` table every later step reads.

The input is any relation with the columns of the dbt model `identity.int_person_records`
(the asset reads that model; the benchmark generates such a relation directly). One row per
record with a dense integer `rid` (ordered by the record key, so a rebuild numbers records the
same way) and the attributes in the form the rules compare:

- `anchor`: the record's decisive identifier, when it has one: `R:<18-char resident ID>` for a
  valid (or upgraded 15-digit) resident ID, `D:<number>` for a passport or permit
  number (delivered with its type, or recognised by its form where the source has no id type), `E:<credit code>` for a valid unified social credit code. Two different anchors
  never share a customer; the same anchor always does. A placeholder number (one character
  repeated) is never an anchor.
- `bad_id`: a resident ID of full shape whose check digit fails or whose birth date is
  impossible (a typo of some valid ID), `sha`: the
  SHA-256 of the resident-ID form (external_data's only key),
- `mob`: a valid, non-placeholder mobile; `nm` / `nkey` / `surname`: simplified name, pinyin
  key without spaces, pinyin surname; `nick`: the name is only a WeCom nickname,
- `birth`, `gender`: delivered, else read from the valid ID.
"""

from __future__ import annotations

import duckdb

RECORD_COLUMNS = (
    "source_system", "source_entity", "role", "source_record_id", "party_type", "name", "name_pinyin_key",
    "name_is_nickname", "id_type", "id_no", "id_no_valid", "id_no_kind", "id_no_is_junk", "id_no_sha256", "mobile",
    "mobile_valid", "mobile_is_junk", "birth_date", "gender", "birth_date_from_id", "gender_from_id",
    "wechat_id", "unionid", "policy_no", "relation_to_holder", "agent_code", "is_resolvable", "first_seen_date",
)

# id_type values of documents without a check character (a number match is still decisive)
UNCHECKED_DOCUMENTS = ("passport", "hk_macau_permit", "taiwan_permit")


def prepare_records(con: duckdb.DuckDBPyConnection, source: str) -> int:
    """Create temp table `recs` from `source` (a table or view name). Returns the row count."""
    con.execute(f"""
        create or replace temp table recs as
        with src as (
            select {', '.join(RECORD_COLUMNS)} from {source}
        )
        select
            cast(row_number() over (order by source_system, source_record_id) - 1 as integer) as rid,
            source_system, source_entity, role, source_record_id,
            coalesce(party_type, 'person') as party_type,
            coalesce(is_resolvable, false) as resolvable,
            coalesce(first_seen_date, date '1900-01-01') as first_seen,
            case
                when coalesce(id_no_is_junk, false) then null
                when party_type = 'enterprise' and id_no_kind = 'valid' then 'E:' || id_no
                when party_type = 'enterprise' then null
                when coalesce(id_type, 'resident_id') = 'resident_id' and id_no_kind in ('valid', 'upgraded_15')
                    then 'R:' || id_no
                when id_type in {UNCHECKED_DOCUMENTS} and id_no_kind = 'unchecked' and length(id_no) >= 5
                    then 'D:' || id_no
            end as anchor,
            case when party_type = 'person' and coalesce(id_type, 'resident_id') = 'resident_id'
                      and id_no_kind in ('bad_check_digit', 'malformed') and regexp_full_match(id_no, '[0-9]{{17}}[0-9X]')
                      and not coalesce(id_no_is_junk, false) then id_no end as bad_id,
            case when party_type = 'person' then lower(id_no_sha256) end as sha,
            case when mobile_valid and not coalesce(mobile_is_junk, false) then mobile end as mob,
            name as nm,
            coalesce(name_is_nickname, false) as nick,
            nullif(replace(upper(name_pinyin_key), ' ', ''), '') as nkey,
            nullif(split_part(upper(name_pinyin_key), ' ', 1), '') as surname,
            regexp_matches(coalesce(name, ''), '^[A-Za-z][A-Za-z .·-]*$') as latin,
            coalesce(birth_date, birth_date_from_id) as birth,
            coalesce(gender, gender_from_id) as gender,
            wechat_id, unionid,
            policy_no as pol,
            role as prole,
            relation_to_holder as relation,
            agent_code as agent
        from src
    """)
    return con.execute("select count(*) from recs").fetchall()[0][0]
