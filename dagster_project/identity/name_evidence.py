"""A name as evidence once the customers are known: passes over `clusters` after clustering.

A pairwise score cannot tell how many *customers* carry a name; once the customers are known it
can be counted, like the mobile in `engine.attach_by_exclusive_mobile`. Each pass attaches a
*weak* customer (a person customer without a valid ID or document number: a lead, a WeCom
contact, an insured or caller known by a name) to the one other customer that holds its key,
when exactly one does:

- `name_agent` (before the mobile pass): the key is (simplified name, agent code). An agent's
  WeCom contact whose nickname is the customer's real name, or a second lead the agent opened
  for the customer, names the agent of one of the customer's policies; a namesake who is also
  that agent's customer is rare and, when there is one, the key is held twice and links
  nothing. The weak side may be a WeCom nickname (a nickname that *is* the name of the agent's
  customer); the holding side must be a real name.
- `name_typo_mobile` (before the mobile pass): the key is the mobile, held by customers with a
  real name, and every real name of the weak customer is the holder's or one character off it
  (same surname, same length), one at least off: a lead or caller whose name was typed wrong
  (刘英 for 刘伟) on the customer's own number. A number two named customers hold (a family
  phone) links nothing.
- `caller_policy_name` (before the mobile pass): the key is a policy, the weak side's from its
  calls, the holding side's as the policy's person holder; every real name of the caller is
  the holder's or one character off it. A relative calling about the policy gives their own
  name; the number it calls from does not matter (a new one).
- `name_exclusive` (after the mobile pass): the key is the simplified name alone; the holding
  side a real name, the weak side may be a WeCom nickname. A name one customer holds in the
  whole warehouse is that customer's, as far as the data can tell; a name two customers hold
  links nothing.

In the two passes reading names one character off, a name off that a third customer carries
links nothing (a sibling's or twin's own name).

Every pass refuses an attachment whose two customers hold mobiles, or birth dates, none of
which agree (a namesake with another phone number, a namesake's child) - unless, for the
mobiles, the weak customer names a policy the other customer's records name too (a caller
with the customer's name, calling about the customer's policy from a new number) - and never
touches an enterprise, nor a privacy request (`mobile_exclusive_never_roles`: a wrong match
would export or erase someone else's data). Weak customers holding each other's key (two
leads of one prospect) become one; a component of attachments holds at most one anchored
customer, because a weak customer attaches to one customer only and an anchored one attaches
to none.

The attached records take the rule's name as `match_rule` and, as `match_probability`, the best
scored pair between them and their new customer (null when no pair was scored: the evidence is
the key's exclusivity, not a pair score).
"""

from __future__ import annotations

import duckdb
import numpy as np

from .clustering import components, move_customers
from .rules import chars_apart, sql_list

# The key each pass reads off a record, and which records may hold it for a weak customer to join.
PASSES = {
    "name_agent": {
        "key": "case when nm is not null and agent is not null then nm || '|' || agent end",
        "holds": "not nick",
    },
    "name_exclusive": {
        "key": "nm",
        "holds": "not nick",
    },
    "name_typo_mobile": {
        "key": "mob",
        "holds": "nm is not null and not nick",
        "names": "typo",
    },
    "caller_policy_name": {
        "key": "case when prole in ('caller', 'holder') then pol end",
        "holds": "prole = 'holder' and party_type = 'person'",
        "names": "same_or_typo",
    },
}


def attach_by_exclusive_key(con: duckdb.DuckDBPyConnection, rule: str,
                            never_roles: tuple[str, ...] = ()) -> dict[str, int]:
    """Run pass `rule` (a key of PASSES) over temp table `clusters`; returns the counts. A weak
    customer holding a record of a role in `never_roles` (a privacy request) is never attached."""
    spec = PASSES[rule]
    con.execute(f"""
        create or replace temp table _nk as
        select c.cluster, r.rid, r.anchor, r.party_type, r.mob, r.birth, r.prole, r.pol, r.nm, r.nick, r.surname,
               {spec['key']} as k, {spec['holds']} as holds
        from clusters c join recs r using (rid)
    """)
    con.execute(f"""
        create or replace temp table _nk_info as
        select cluster, bool_or(anchor is not null) as anchored, bool_and(party_type = 'person') as person,
               coalesce(bool_or(prole in {sql_list(never_roles)}), false) as never,
               list(distinct mob) filter (where mob is not null) as mobs,
               list(distinct birth) filter (where birth is not null) as births,
               list(distinct pol) filter (where pol is not null) as pols
        from _nk group by cluster
    """)
    names = spec.get("names")
    # the passes reading names: every real name of the weak customer is the other's or one
    # character off it (`typo`: one at least off), and no third customer carries a name that is
    # off (a sibling's own)
    name_ctes = f"""
        names as (select distinct cluster, nm, surname from _nk where nm is not null and not nick),
        name_holders as (select nm, count(distinct cluster) as holders from names group by nm),
        name_pairs as (
            select o.w, o.t, wn.nm,
                   coalesce(bool_or(tn.nm = wn.nm), false) as same,
                   coalesce(bool_or(tn.surname = wn.surname and length(tn.nm) = length(wn.nm)
                                    and {chars_apart('tn.nm', 'wn.nm')} = 1), false) as typo
            from one o join names wn on wn.cluster = o.w left join names tn on tn.cluster = o.t
            group by all
        ),
        names_ok as (
            select n.w, n.t from name_pairs n join name_holders h using (nm)
            group by n.w, n.t
            having bool_and(n.same or n.typo) and {'bool_or(n.typo)' if names == 'typo' else 'true'}
               and not bool_or(not n.same and h.holders > 1)
        ),""" if names else ""
    edges = con.execute(f"""
        with keys as (select distinct cluster, k, holds from _nk where k is not null),
        -- a key three customers hold has two holders besides any weak one: it links nothing and
        -- refuses every weak customer holding it (so a common name never makes a large join)
        crowded as (select k from keys where holds group by k having count(*) > 2),
        weak as (
            select cluster from _nk_info where not anchored and person and not never
            except select cluster from keys semi join crowded using (k)
        ),
        cand as (
            select w.cluster as w, h.cluster as t
            from keys w join weak using (cluster)
            join keys h on h.k = w.k and h.cluster <> w.cluster and h.holds
        ),
        one as (select w, min(t) as t from cand group by w having count(distinct t) = 1),
        {name_ctes}
        attach as (select w, t from one {'semi join names_ok using (w, t)' if names else ''})
        select one.w, one.t
        from attach one join _nk_info a on a.cluster = one.w join _nk_info b on b.cluster = one.t
        where b.person
          and (array_length(coalesce(a.mobs, [])) = 0 or array_length(coalesce(b.mobs, [])) = 0 or list_has_any(a.mobs, b.mobs)
               or list_has_any(coalesce(a.pols, []), coalesce(b.pols, [])))
          and (array_length(coalesce(a.births, [])) = 0 or array_length(coalesce(b.births, [])) = 0
               or list_has_any(a.births, b.births))
        order by one.w
    """).fetchnumpy()
    w, t = np.asarray(edges["w"], dtype=np.int64), np.asarray(edges["t"], dtype=np.int64)
    moved = (0, 0)
    if len(w):
        nodes = np.unique(np.concatenate([w, t]))
        labels = components(len(nodes), np.searchsorted(nodes, w), np.searchsorted(nodes, t))
        # each component becomes its anchored customer when it has one (at most one: see module
        # doc), else its smallest cluster (`labels` are the index of each component's smallest node)
        anchored = np.isin(nodes, con.execute("select cluster from _nk_info where anchored").fetchnumpy()["cluster"])
        anchor_of = np.full(len(nodes), -1, dtype=np.int64)
        anchor_of[labels[anchored]] = nodes[anchored]
        target = np.where(anchor_of[labels] >= 0, anchor_of[labels], nodes[labels])
        keep = nodes != target
        con.register("_nk_move", {"cluster": nodes[keep], "target": target[keep],
                                  "rule": np.full(int(keep.sum()), rule, dtype=object)})
        moved = move_customers(con, "_nk_move")
        con.unregister("_nk_move")
    con.execute("drop table _nk")
    con.execute("drop table _nk_info")
    return {f"{rule}_attached_clusters": moved[0], f"{rule}_attached_records": moved[1]}
