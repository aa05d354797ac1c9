"""Blocking: which record pairs are compared at all.

A pair is a candidate when the two records share one of the configured keys (matching.yaml
`blocking.rules`):

| rule | key |
|---|---|
| `mobile` | the same valid, non-placeholder mobile |
| `name_birth` | the same pinyin key and the same birth date |
| `policy` | the same policy number (holder, insured, claimant, caller, applicant, won lead) |
| `family_name` | policies of one household or one employer (see prepare_matching_view) and the same pinyin surname |
| `id_one_off` | a bad-check-digit ID one character from the other record's ID |
| `agent_name` | the same agent code and the same pinyin key |
| `name` | the same pinyin key (not a nickname), in a block of at most `name_max_block_size` records (a rare name) |

Never candidates: records of the same deterministic unit (already one), two units that both
hold a valid ID (different anchors cannot link: twins, namesakes), records of different party
types, and records marked unresolvable. A key shared by more than `max_block_size` records is
skipped for that rule. Training pairs (`training_pairs`) use the same rules between records
that both carry a valid ID, labelled by whether the IDs are equal.
"""

from __future__ import annotations

import duckdb
import numpy as np

from .clustering import components
from .config import BLOCKING_RULES, BlockingConfig
from .rules import id_typo_candidates_sql

RULE_BIT = {r: 1 << i for i, r in enumerate(BLOCKING_RULES)}


def prepare_matching_view(con: duckdb.DuckDBPyConnection) -> None:
    """Temp table mrec: recs + unit, unit anchor, household (`fam`) and how many units with a
    valid ID (known people) hold the record's mobile (`mob_owners`) and name (`name_owners`).

    Households: units joined by a policy (its person holder and its insured) form one
    household; `fam` is the household of the record's policy (`H<n>`), or for group cover its
    employer (`E<unit>`). The insured child of one parent's policy and of the other parent's
    policy are then in one household even when neither record carries an ID (the parents are
    joined by the policy one holds on the other); an employee insured under two group covers
    of one employer is found by name within the employer."""
    con.execute("""
        create or replace temp table unit_anchor as
        select d.unit, max(r.anchor) as unit_anchor
        from det d join recs r using (rid) group by d.unit
    """)
    edges = con.execute("""
        select h.unit as a, i.unit as b
        from (select r.pol, d.unit from recs r join det d using (rid)
              where r.source_system = 'policy_admin' and r.prole = 'holder' and r.party_type = 'person') h
        join (select r.pol, d.unit from recs r join det d using (rid)
              where r.source_system = 'policy_admin' and r.prole = 'insured') i using (pol)
    """).fetchnumpy()
    n = con.execute("select count(*) from recs").fetchall()[0][0]
    household = components(n, edges["a"], edges["b"])
    con.register("_household", {"unit": np.arange(n, dtype=np.int64), "household": household})
    con.execute("""
        create or replace temp table mrec as
        with policy_household as (
            -- a person holder's household (H...), or for group cover the employer (E...)
            select r.pol,
                   min(case when r.party_type = 'person' then 'H' || cast(hh.household as varchar)
                            else 'E' || cast(d.unit as varchar) end) as fam
            from recs r join det d using (rid) join _household hh on hh.unit = d.unit
            where r.source_system = 'policy_admin' and r.prole = 'holder'
            group by r.pol
        ),
        mobile_owners as (
            select r.mob, count(distinct d.unit) as mob_owners
            from recs r join det d using (rid) join unit_anchor ua on ua.unit = d.unit
            where r.mob is not null and ua.unit_anchor is not null and r.party_type = 'person'
            group by r.mob
        ),
        name_owners as (
            select r.nkey, count(distinct d.unit) as name_owners
            from recs r join det d using (rid) join unit_anchor ua on ua.unit = d.unit
            where r.nkey is not null and not r.nick and ua.unit_anchor is not null and r.party_type = 'person'
            group by r.nkey
        )
        select r.rid, r.source_system, r.party_type, r.resolvable, r.anchor, r.bad_id, r.mob, r.nm, r.nick, r.nkey,
               r.surname, r.latin, r.birth, r.gender, r.pol, r.prole, r.relation, r.agent,
               d.unit, ua.unit_anchor, ua.unit_anchor is not null as anchored, h.fam,
               coalesce(r.anchor, 'R:' || r.bad_id) as id_form, coalesce(mo.mob_owners, 0) as mob_owners,
               case when r.mob is not null then count(*) over (partition by d.unit, r.mob) end as unit_mob_records,
               coalesce(no.name_owners, 0) as name_owners,
               case when r.nkey is not null and not r.nick then count(*) over (partition by d.unit, r.nkey, r.nick) end
                   as unit_name_records
        from recs r
        join det d using (rid)
        join unit_anchor ua on ua.unit = d.unit
        left join policy_household h on h.pol = r.pol
        left join mobile_owners mo on mo.mob = r.mob
        left join name_owners no on no.nkey = r.nkey
    """)
    con.unregister("_household")


def _rule_pairs(rule: str, cfg: BlockingConfig, pair_filter: str) -> str:
    """SQL (a, b) of one blocking rule; `pair_filter` restricts which pairs are kept (x, y)."""
    base = "party_type = 'person' and resolvable"
    cap = cfg.name_max_block_size if rule == "name" else cfg.max_block_size
    if rule == "id_one_off":
        return f"""
            select least(x.rid, y.rid) as a, greatest(x.rid, y.rid) as b
            from mrec x, lateral ({id_typo_candidates_sql('x.bad_id')}) as c
            join mrec y on y.id_form = 'R:' || c.cand
            where x.bad_id is not null and x.party_type = 'person' and x.resolvable
              and y.party_type = 'person' and y.resolvable and x.rid <> y.rid and {pair_filter}"""
    # the `name` rule counts parties (deterministic units: one person's many records are one),
    # the others count records
    having = (f"count(distinct unit) <= {cap} and count(*) <= {cfg.max_block_size}" if rule == "name"
              else f"count(*) <= {cap}")
    key = {
        "mobile": "mob",
        "name_birth": "nkey || '|' || cast(birth as varchar)",
        "policy": "pol",
        "family_name": "fam || '|' || surname",
        "agent_name": "agent || '|' || nkey",
        "name": "case when not nick then nkey end",
    }[rule]
    return f"""
        with keyed_{rule} as (
            select *, {key} as bkey from mrec where {base} and {key} is not null
        ),
        blocks_{rule} as (
            select * from keyed_{rule} where bkey in (select bkey from keyed_{rule} group by bkey having {having})
        )
        select x.rid as a, y.rid as b
        from blocks_{rule} x join blocks_{rule} y on y.bkey = x.bkey and x.rid < y.rid
        where {pair_filter}"""


def candidate_pairs(con: duckdb.DuckDBPyConnection, cfg: BlockingConfig) -> dict[str, int]:
    """Temp table cand(a, b, rules): pairs to score (a < b, rules = bit mask of BLOCKING_RULES)."""
    keep = "x.unit <> y.unit and not (x.anchored and y.anchored)"
    parts = [f"select a, b, {RULE_BIT[r]} as bit from ({_rule_pairs(r, cfg, keep)})"
             for r in cfg.rules]
    con.execute(f"""
        create or replace temp table cand as
        select a, b, bit_or(bit) as rules
        from ({' union all '.join(parts)})
        group by a, b
    """)
    return _rule_counts(con, "cand", cfg)


def training_pairs(con: duckdb.DuckDBPyConnection, cfg: BlockingConfig, max_pairs: int) -> dict[str, int]:
    """Temp table train(a, b, rules, is_match): candidate-like pairs of records whose units both
    hold a valid ID, labelled by ID equality; a deterministic sample when there are too many
    (plain arithmetic on the record numbers, which every engine computes alike; their hash
    functions differ)."""
    keep = "x.anchored and y.anchored"
    parts = [f"select a, b, {RULE_BIT[r]} as bit from ({_rule_pairs(r, cfg, keep)})"
             for r in cfg.rules if r != "id_one_off"]
    con.execute(f"""
        create or replace temp table train_all as
        select a, b, bit_or(bit) as rules
        from ({' union all '.join(parts)})
        group by a, b
    """)
    total = con.execute("select count(*) from train_all").fetchall()[0][0]
    keep_every = max(1, -(-total // max_pairs))
    con.execute(f"""
        create or replace temp table train as
        select t.a, t.b, t.rules, x.unit_anchor = y.unit_anchor as is_match
        from train_all t join mrec x on x.rid = t.a join mrec y on y.rid = t.b
        where {'true' if keep_every == 1 else f'(cast(t.a as bigint) * 1000003 + t.b) % {keep_every} = 0'}
    """)
    con.execute("drop table train_all")
    counts = _rule_counts(con, "train", cfg)
    counts["total_before_sampling"] = int(total)
    return counts


def _rule_counts(con: duckdb.DuckDBPyConnection, table: str, cfg: BlockingConfig) -> dict[str, int]:
    sel = ", ".join(f"count(*) filter (where rules & {RULE_BIT[r]} <> 0)" for r in cfg.rules)
    row = con.execute(f"select count(*), {sel} from {table}").fetchall()[0]
    return {"pairs": int(row[0]), **{r: int(v) for r, v in zip(cfg.rules, row[1:])}}
