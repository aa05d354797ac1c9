"""Score a resolution against a simulator's truth (tests and benchmarks only: the platform never
reads the truth).

`score(con, predicted, truth, records)`: `predicted` is a relation with (source_system,
source_record_id, customer_id, is_resolvable) - the xref; `truth` a relation with the columns of
`<truth>/person_records.parquet`; `records` the int_person_records relation (for the mobiles and
names the household measure reads). Records present in both `predicted` and `truth` are scored:

- pairwise precision / recall over record pairs (same customer vs same true person),
- duplicate rate: the share of records whose true person is split over more than one customer,
- household merges: customers holding two different people of one household, and of those the
  merges *by a shared mobile alone*: the two people's records in the customer share a mobile
  but no name (pinyin key) - a record without any name counts as sharing no name,
- party mixes: customers holding an enterprise and a person.

`resolvable_only=True` scores only the records the resolution marked resolvable. `report()`
gives both, and the unresolvable share: the issue's figures are asserted over the resolvable
records, the all-records figures are reported beside them.

`oracle_floor(con, predicted, truth, records)`: the duplicate rate of an oracle that knows the
truth and links, within each true person, every two resolvable records sharing an identifier
value exactly (valid or mistyped ID, ID hash, valid mobile, name or pinyin key - a WeCom
nickname included -, policy number, WeChat id or unionid). It makes no false link and uses
nothing a resolver could not see in the two records, so what it leaves split is what the records
alone cannot join without guessing: the measure the resolver's duplicate rate is read against.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import duckdb
import numpy as np

from .clustering import components


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
    household_mobile_merges: int
    party_mixes: int

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return (f"precision {self.precision:.4f}  recall {self.recall:.4f}  duplicate rate {self.duplicate_rate:.4f}  "
                f"({self.records:,} records, {self.persons:,} persons, {self.customers:,} customers, household merges "
                f"{self.household_merges}, of which by a shared mobile alone {self.household_mobile_merges}, "
                f"party mixes {self.party_mixes})")


@dataclass(frozen=True)
class Report:
    all_records: Score
    resolvable: Score
    unresolvable_share: float
    oracle_floor: float

    def as_dict(self) -> dict:
        return {"all_records": self.all_records.as_dict(), "resolvable": self.resolvable.as_dict(),
                "unresolvable_share": self.unresolvable_share, "oracle_floor": self.oracle_floor}

    def __str__(self) -> str:
        return (f"resolvable records: {self.resolvable}\n"
                f"all records:        {self.all_records}\n"
                f"unresolvable share: {self.unresolvable_share:.4f}\n"
                f"oracle floor:       {self.oracle_floor:.4f} (duplicate rate of exact shared identifiers "
                f"within each true person, resolvable records)")


def score(con: duckdb.DuckDBPyConnection, predicted: str, truth: str, records: str,
          resolvable_only: bool = False) -> Score:
    where = "where p.is_resolvable" if resolvable_only else ""
    con.execute(f"""
        create or replace temp table _scored as
        select p.source_system, p.source_record_id, p.customer_id, t.person_id, t.household_id, t.party_type
        from {predicted} p
        join {truth} t using (source_system, source_record_id)
        {where}
    """)
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
    household_mobile = con.execute(f"""
        with s as (
            select k.customer_id, k.person_id, k.household_id,
                   case when r.mobile_valid and not r.mobile_is_junk then r.mobile end as mob,
                   case when not r.name_is_nickname then replace(r.name_pinyin_key, ' ', '') end as nkey
            from _scored k join {records} r using (source_system, source_record_id)
            where k.household_id is not null
        ),
        pairs as (
            select a.customer_id, a.person_id as pa, b.person_id as pb,
                   coalesce(bool_or(a.mob = b.mob), false) as share_mobile,
                   coalesce(bool_or(a.nkey = b.nkey), false) as share_name
            from s a join s b on a.customer_id = b.customer_id and a.household_id = b.household_id
                             and a.person_id <> b.person_id
            group by all
        )
        select count(distinct customer_id) from pairs where share_mobile and not share_name
    """).fetchall()[0][0]
    con.execute("drop table _scored")
    n, persons, customers, true_pairs, pred_pairs, correct, split_records, hh, mixes = (int(x) for x in row)
    return Score(
        records=n, persons=persons, customers=customers, true_pairs=true_pairs,
        predicted_pairs=pred_pairs, correct_pairs=correct,
        precision=correct / pred_pairs if pred_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        duplicate_rate=split_records / n if n else 0.0,
        household_merges=hh, household_mobile_merges=int(household_mobile), party_mixes=mixes,
    )


def report(con: duckdb.DuckDBPyConnection, predicted: str, truth: str, records: str) -> Report:
    """The issue's figures over the resolvable records, the same over all records, the share
    of records marked unresolvable and the oracle floor of the duplicate rate."""
    unresolvable = con.execute(f"""
        select count(*) filter (where not p.is_resolvable) / count(*)
        from {predicted} p semi join {truth} t using (source_system, source_record_id)
    """).fetchall()[0][0]
    return Report(all_records=score(con, predicted, truth, records),
                  resolvable=score(con, predicted, truth, records, resolvable_only=True),
                  unresolvable_share=float(unresolvable or 0.0),
                  oracle_floor=oracle_floor(con, predicted, truth, records))


# identifier values the oracle links on: (kind, SQL over an int_person_records row `r`)
ORACLE_KEYS = (
    ("id", "case when r.id_no_valid then r.id_no end"),
    ("hash", "case when r.source_system = 'external_data' then lower(r.id_no_sha256) "
             "when r.id_no_valid then lower(sha256(r.id_no)) end"),
    ("bad_id", "case when r.id_no is not null and not coalesce(r.id_no_valid, false) "
               "and not coalesce(r.id_no_is_junk, false) then r.id_no end"),
    ("mobile", "case when r.mobile_valid and not coalesce(r.mobile_is_junk, false) then r.mobile end"),
    ("name", "nullif(replace(upper(r.name_pinyin_key), ' ', ''), '')"),
    ("policy", "r.policy_no"),
    ("wechat", "coalesce(r.unionid, r.wechat_id)"),
)


def oracle_floor(con: duckdb.DuckDBPyConnection, predicted: str, truth: str, records: str) -> float:
    """The oracle's duplicate rate over the records `predicted` marks resolvable and `records`
    holds (an xref read after an erasure purged some records still lists them until the next
    run; module doc)."""
    keys = " union all ".join(f"select i, person_id, '{kind}:' || ({sql}) as k from r where ({sql}) is not null"
                              for kind, sql in ORACLE_KEYS)
    con.execute(f"""
        create or replace temp table _oracle as
        select cast(row_number() over (order by t.source_system, t.source_record_id) - 1 as bigint) as i,
               t.source_system, t.source_record_id, t.person_id
        from {predicted} p join {truth} t using (source_system, source_record_id)
        semi join {records} r using (source_system, source_record_id)
        where p.is_resolvable
    """)
    n = con.execute("select count(*) from _oracle").fetchall()[0][0]
    if not n:
        con.execute("drop table _oracle")
        return 0.0
    # every record sharing a value with others of its person links to the group's first record
    edges = con.execute(f"""
        with r as (select s.i, s.person_id, r.* from _oracle s join {records} r using (source_system, source_record_id)),
        keyed as ({keys})
        select i, min(i) over (partition by person_id, k) as j from keyed
    """).fetchnumpy()
    labels = components(int(n), np.asarray(edges["i"], dtype=np.int64), np.asarray(edges["j"], dtype=np.int64))
    con.register("_oracle_label", {"i": np.arange(n, dtype=np.int64), "label": labels})
    split = con.execute("""
        select coalesce(sum(n), 0) from (
            select o.person_id, count(*) as n, count(distinct l.label) as parts
            from _oracle o join _oracle_label l using (i) group by o.person_id
        ) where parts > 1
    """).fetchall()[0][0]
    con.unregister("_oracle_label")
    con.execute("drop table _oracle")
    return float(split) / n
