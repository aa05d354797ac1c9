"""Score a resolution against a simulator's truth (tests and benchmarks only: the platform never
reads the truth).

`score(con, predicted, truth)`: `predicted` is a relation with (source_system,
source_record_id, customer_id); `truth` a relation with the columns of
`<truth>/person_records.parquet`. Records present in both are scored:

- pairwise precision / recall over record pairs (same customer vs same true person),
- duplicate rate: the share of records whose true person is split over more than one customer,
- household merges: customers holding two different people of one household, and of those the
  merges *by a shared mobile alone* (with `records` given): the two people's records in the
  customer share a mobile but no name (pinyin key),
- party mixes: customers holding an enterprise and a person.

`resolvable_only=True` scores only records the resolution marked resolvable (predicted must
then carry `is_resolvable`).

**Linkable ceiling.** Some records of a person share nothing with the person's other records
(a WeCom contact known by a nickname only, an app account with a placeholder mobile, a
bands record hashing an ID no other record carries): no resolver can link them. With
`records` (a relation with the int_person_records columns) given, recall and duplicate rate are
also reported against the *linkable* truth: the records of a person are split into the
connected components of "shares linking evidence" (same or one-digit-off ID or its hash,
same WeChat account, insured `self` with the holder, or the same name or pinyin key together
with the same mobile, birth date, policy or policy holder, or with the same agent when no
other person of that agent carries the name), and only pairs inside one component count. A name alone is not evidence (namesakes), nor a mobile alone: the acceptance
rules forbid linking household members by a shared phone, so a record known only by a mobile
cannot be placed. Precision is always over all pairs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb


@dataclass(frozen=True)
class Score:
    records: int
    persons: int
    customers: int
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    precision: float
    recall: float
    duplicate_rate: float
    household_merges: int
    party_mixes: int
    household_mobile_merges: int | None = None
    linkable_pairs: int | None = None
    linkable_recall: float | None = None
    linkable_duplicate_rate: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        text = (f"precision {self.precision:.4f}  recall {self.recall:.4f}  duplicate rate {self.duplicate_rate:.4f}  "
                f"({self.records:,} records, {self.persons:,} persons, {self.customers:,} customers, "
                f"household merges {self.household_merges}, party mixes {self.party_mixes})")
        if self.household_mobile_merges is not None:
            text += f"\n  household merges by a shared mobile alone: {self.household_mobile_merges}"
        if self.linkable_recall is not None:
            text += (f"\n  linkable: recall {self.linkable_recall:.4f}  duplicate rate {self.linkable_duplicate_rate:.4f}"
                     f"  ({self.linkable_pairs:,} of {self.true_pairs:,} true pairs linkable)")
        return text


def linkable_components(con: duckdb.DuckDBPyConnection, records: str, truth: str) -> None:
    """Temp table _linkable(source_system, source_record_id, component): per true person, the
    connected components of records that share linking evidence (see module doc)."""
    import numpy as np

    from .clustering import components

    con.execute(f"""
        create or replace temp table _ev as
        select row_number() over (order by r.source_system, r.source_record_id) - 1 as i,
               r.source_system, r.source_record_id, t.person_id, t.household_id,
               case when r.mobile_valid and not r.mobile_is_junk then r.mobile end as mob,
               case when r.id_no_kind in ('valid', 'upgraded_15', 'bad_check_digit', 'unchecked') then r.id_no end as idn,
               lower(r.id_no_sha256) as sha, r.unionid, r.wechat_id, r.policy_no as pol, r.role, r.relation_to_holder,
               case when not coalesce(r.name_is_nickname, false) then replace(r.name_pinyin_key, ' ', '') end as nkey,
               coalesce(r.birth_date, r.birth_date_from_id) as birth, r.agent_code
        from {records} r join {truth} t using (source_system, source_record_id)
    """)
    # the person holding each policy (a household link the data shows: one holder's policies)
    con.execute(f"""
        create or replace temp table _holder as
        select split_part(source_record_id, ':', 1) as pol, any_value(person_id) as holder_person
        from {truth} where source_system = 'policy_admin' and role = 'holder' group by 1
    """)
    # a name and an agent identify someone only when no other person of that agent has the name
    con.execute("""
        create or replace temp table _ev as
        with agent_names as (
            select agent_code, nkey, count(distinct person_id) as holders from _ev
            where agent_code is not null and nkey is not null group by all
        )
        select _ev.*, h.holder_person, coalesce(a.holders = 1, false) as agent_name_unique
        from _ev left join _holder h using (pol) left join agent_names a using (agent_code, nkey)
    """)
    pairs = con.execute("""
        select x.i, y.i from _ev x join _ev y on x.person_id = y.person_id and x.i < y.i
        where x.idn = y.idn or x.sha = y.sha or x.unionid = y.unionid or x.wechat_id = y.wechat_id
           or (length(x.idn) = 18 and length(y.idn) = 18 and hamming(x.idn, y.idn) = 1)
           or (x.pol = y.pol and x.source_system = 'policy_admin' and y.source_system = 'policy_admin'
               and coalesce(x.relation_to_holder, y.relation_to_holder) = 'self')
           or (x.nkey = y.nkey and (x.mob = y.mob or x.birth = y.birth or x.pol = y.pol
               or (x.agent_code = y.agent_code and x.agent_name_unique)
               or x.holder_person = y.holder_person))
    """).fetchnumpy()
    n = con.execute("select count(*) from _ev").fetchall()[0][0]
    keys = list(pairs.values())
    comp = components(n, keys[0], keys[1]) if n else np.zeros(0, dtype=np.int64)
    con.register("_comp", {"i": np.arange(n, dtype=np.int64), "component": comp})
    con.execute("""
        create or replace temp table _linkable as
        select e.source_system, e.source_record_id, c.component from _ev e join _comp c using (i)
    """)
    con.unregister("_comp")
    con.execute("drop table _ev")
    con.execute("drop table _holder")


def score(con: duckdb.DuckDBPyConnection, predicted: str, truth: str, resolvable_only: bool = False,
          records: str | None = None) -> Score:
    where = "where p.is_resolvable" if resolvable_only else ""
    con.execute(f"""
        create or replace temp table _scored_keys as
        select p.source_system, p.source_record_id, p.customer_id, t.person_id, t.household_id, t.party_type
        from {predicted} p
        join {truth} t using (source_system, source_record_id)
        {where}
    """)
    con.execute("create or replace temp table _scored as select customer_id, person_id, household_id, party_type from _scored_keys")
    row = con.execute("""
        with cells as (select customer_id, person_id, count(*) as n from _scored group by all),
             cust as (select customer_id, count(*) as n from _scored group by all),
             pers as (select person_id, count(*) as n, count(distinct customer_id) as k from _scored group by all)
        select
            (select count(*) from _scored),
            (select count(*) from pers),
            (select count(*) from cust),
            (select coalesce(sum(n * (n - 1) / 2), 0) from pers),
            (select coalesce(sum(n * (n - 1) / 2), 0) from cust),
            (select coalesce(sum(n * (n - 1) / 2), 0) from cells),
            (select coalesce(sum(n) filter (where k > 1), 0) from pers),
            (select count(*) from (
                select customer_id from _scored where household_id is not null
                group by customer_id, household_id having count(distinct person_id) > 1)),
            (select count(*) from (
                select customer_id from _scored group by customer_id having count(distinct party_type) > 1))
    """).fetchall()[0]
    linkable = {}
    if records is not None:
        linkable_components(con, records, truth)
        lrow = con.execute(f"""
            with s as (
                select p.customer_id, l.component from {predicted} p
                join _linkable l using (source_system, source_record_id)
                join _scored_keys k using (source_system, source_record_id)
            ),
            comp as (select component, count(*) as n, count(distinct customer_id) as k from s group by 1),
            cells as (select component, customer_id, count(*) as n from s group by all)
            select (select sum(n * (n - 1) / 2) from comp), (select sum(n * (n - 1) / 2) from cells),
                   (select coalesce(sum(n) filter (where k > 1), 0) from comp), (select count(*) from s)
        """).fetchall()[0]
        lp, lc, lsplit, ln = (int(x or 0) for x in lrow)
        linkable = {"linkable_pairs": lp, "linkable_recall": lc / lp if lp else 1.0,
                    "linkable_duplicate_rate": lsplit / ln if ln else 0.0}
        linkable["household_mobile_merges"] = int(con.execute(f"""
            with s as (
                select k.customer_id, k.person_id, k.household_id,
                       case when r.mobile_valid and not r.mobile_is_junk then r.mobile end as mob,
                       replace(r.name_pinyin_key, ' ', '') as nkey
                from _scored_keys k join {records} r using (source_system, source_record_id)
                where k.household_id is not null
            ),
            pairs as (
                select a.customer_id, a.person_id as pa, b.person_id as pb,
                       bool_or(a.mob = b.mob) as share_mobile, bool_or(a.nkey = b.nkey) as share_name
                from s a join s b on a.customer_id = b.customer_id and a.household_id = b.household_id
                                 and a.person_id < b.person_id
                group by all
            )
            select count(distinct customer_id) from pairs where share_mobile and not share_name
        """).fetchall()[0][0])
        con.execute("drop table _linkable")
    con.execute("drop table _scored")
    con.execute("drop table _scored_keys")
    records, persons, customers, true_pairs, pred_pairs, correct, split_records, hh, mixes = (int(x) for x in row)
    return Score(
        **linkable,
        records=records, persons=persons, customers=customers, true_pairs=true_pairs,
        predicted_pairs=pred_pairs, correct_pairs=correct,
        precision=correct / pred_pairs if pred_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        duplicate_rate=split_records / records if records else 0.0,
        household_merges=hh, party_mixes=mixes,
    )
