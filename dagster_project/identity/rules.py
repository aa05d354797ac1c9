"""Deterministic rules: records that are one person (or one enterprise) whatever else they say.

Each rule yields edges between records; the connected components are the *units* the
probabilistic linkage then works on. In priority order:

| rule | edge |
|---|---|
| `resident_id` / `document_no` / `credit_code` | the same anchor (valid resident ID, passport or permit number, valid credit code) |
| `id_hash` | an external_data hash equal to the SHA-256 of an ID another record carries (valid, or the same typo) |
| `id_hash_typo` | an external_data hash of a typo of a valid ID (one digit changed) or of the correction of a record's typo; exactly one ID qualifies |
| `id_typo` | a bad-check-digit ID one digit off exactly one valid ID whose records carry the same name |
| `same_bad_id` | the same bad-check-digit ID string, names not in conflict |
| `policy_self` | a policy's insured with relation `self` and the policy's holder, unless their IDs or surnames differ |
| `wechat_account` | the same WeCom unionid or the same agent-CRM wechat_id |
| `enterprise_name` | enterprise records without a valid credit code: the same name as another enterprise record |

A component that would hold two different anchors (possible only through a chain of the weaker
rules) is rebuilt with the constrained union-find in rule priority order, so the anchors stay
apart. Enterprises and persons never share an edge: every rule joins within one party type.
"""

from __future__ import annotations

import duckdb
import numpy as np

from .clustering import ConstrainedUnionFind, components
from .config import DeterministicConfig

RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
RIC_CHECK = "10X98765432"
# multiplicative inverse of each weight modulo 11
RIC_INVERSE = tuple(pow(w, -1, 11) for w in RIC_WEIGHTS)

ANCHOR_RULES = {"R": "resident_id", "D": "document_no", "E": "credit_code"}
RULE_PRIORITY = ("resident_id", "document_no", "credit_code", "id_hash", "id_typo", "same_bad_id", "id_hash_typo",
                 "policy_self", "wechat_account", "enterprise_name")


def names_agree(a: str, b: str) -> str:
    """SQL: the two records carry the same name (same simplified text or same pinyin key)."""
    return (f"(not {a}.nick and not {b}.nick and ({a}.nm = {b}.nm "
            f"or ({a}.nkey = {b}.nkey and length({a}.nkey) >= 4)))")


def sql_list(values: tuple[str, ...]) -> str:
    """SQL: a parenthesised list of string literals for `in`, `(null)` (matching nothing) when empty."""
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")" if values else "(null)"


def chars_apart(a: str, b: str) -> str:
    """SQL: in how many character positions two equally long strings differ. DuckDB's
    levenshtein / hamming count UTF-8 *bytes*: two Chinese names one character apart are
    usually two or three apart there, so names are compared character by character."""
    return f"array_length(list_filter(range(1, length({a}) + 1), lambda i: substr({a}, i, 1) <> substr({b}, i, 1)))"


def names_compatible(a: str, b: str) -> str:
    """SQL: nothing in the names says these are two people (either missing, a nickname, the same
    name or pinyin, or one character off with the same surname)."""
    return (f"({a}.nm is null or {b}.nm is null or {a}.nick or {b}.nick or {a}.nm = {b}.nm "
            f"or {a}.nkey = {b}.nkey "
            f"or ({a}.surname = {b}.surname and length({a}.nm) = length({b}.nm) and {chars_apart(a + '.nm', b + '.nm')} <= 1))")


def surnames_compatible(a: str, b: str) -> str:
    """SQL: the two records do not carry different surnames (either name may be missing)."""
    return f"({a}.surname is null or {b}.surname is null or {a}.surname = {b}.surname)"


def id_typo_candidates_sql(bad: str) -> str:
    """SQL rows (pos, cand) for a bad-check-digit ID expression: every 18-char ID one character
    away whose check digit holds (at most one per body position, plus the corrected check)."""
    digits = [f"cast(substr({bad}, {i + 1}, 1) as integer)" for i in range(17)]
    cur = " + ".join(f"{w} * {d}" for w, d in zip(RIC_WEIGHTS, digits))
    target = f"(strpos('{RIC_CHECK}', substr({bad}, 18, 1)) - 1)"
    # delta needed in the weighted sum, then the digit change at position i: k = delta * inv(w_i) mod 11
    return f"""
        select pos,
               case
                   when pos = 17 then substr({bad}, 1, 17) || substr('{RIC_CHECK}', (({cur}) % 11) + 1, 1)
                   else substr({bad}, 1, pos) || cast(newd as varchar) || substr({bad}, pos + 2)
               end as cand
        from (
            select pos,
                   d + case when d + k <= 9 then k when d + k >= 11 then k - 11 end as newd
            from (
                select pos,
                       case when pos < 17 then cast(substr({bad}, pos + 1, 1) as integer) end as d,
                       case when pos < 17 then
                           ((({target} - ({cur})) % 11 + 11) % 11 * list_extract({list(RIC_INVERSE)}, pos + 1)) % 11
                       end as k
                from (select unnest(range(18)) as pos)
            )
        )
        where pos = 17 or newd is not null
    """


def _id_hash_typo_edges(con: duckdb.DuckDBPyConnection, variants: bool) -> str:
    """SQL edges for the external_data hashes the exact rule left unmatched, when one ID explains
    the hash as a typo: a record holds a mistyped ID whose correction (one character changed,
    check digit holding) hashes to it, or else the vendor hashed a typo of a valid ID a record
    holds (with `variants`: each such ID varied in each of its 17 body digits, 153 SHA-256 per
    ID, paid only while unmatched hashes exist). A hash two IDs explain joins neither."""
    con.execute("""
        create or replace temp table _unmatched_sha as
        select e.rid, e.sha from recs e
        where e.source_system = 'external_data' and e.sha is not null
          and e.sha not in (select sha from recs where source_system <> 'external_data' and sha is not null)
    """)
    if con.execute("select count(*) from _unmatched_sha").fetchall()[0][0] == 0:
        return "select null::integer as a, null::integer as b, 'id_hash_typo' as rule where false"
    con.execute(f"""
        create or replace temp table _hash_typo as
        select u.rid as a, min(b.rid) as b
        from recs b, lateral ({id_typo_candidates_sql('b.bad_id')}) as c
        join _unmatched_sha u on u.sha = sha256(c.cand)
        where b.bad_id is not null and b.source_system <> 'external_data'
        group by u.rid
        having count(distinct c.cand) = 1
    """)
    if not variants:
        return "select a, b, 'id_hash_typo' as rule from _hash_typo"
    con.execute("""
        insert into _hash_typo
        with ids as (
            select substr(anchor, 3) as id, min(rid) as rid from recs
            where anchor like 'R:%' and party_type = 'person'
              and sha256(substr(anchor, 3)) not in (select sha from recs where source_system = 'external_data'
                                                    and sha is not null)
            group by 1
        ),
        variants as (
            select i.rid, sha256(substr(i.id, 1, p.pos) || cast((cast(substr(i.id, p.pos + 1, 1) as integer) + d.delta) % 10
                                  as varchar) || substr(i.id, p.pos + 2)) as sha
            from ids i cross join (select unnest(range(17)) as pos) p
                 cross join (select unnest(range(1, 10)) as delta) d
        )
        select u.rid as a, min(v.rid) as b
        from variants v join _unmatched_sha u using (sha)
        where u.rid not in (select a from _hash_typo)
        group by u.rid having count(distinct v.rid) = 1
    """)
    return "select a, b, 'id_hash_typo' as rule from _hash_typo"


def deterministic_edges(con: duckdb.DuckDBPyConnection, cfg: DeterministicConfig) -> None:
    """Temp table det_edges(a, b, rule, prio): a joins b by `rule`."""
    prio = {r: i for i, r in enumerate(RULE_PRIORITY)}
    parts = [
        # the same anchor: every record to the smallest record holding it
        f"""select rid as a, min(rid) over (partition by anchor) as b,
                   case left(anchor, 1) when 'R' then 'resident_id' when 'D' then 'document_no' else 'credit_code' end as rule
            from recs where anchor is not null""",
        # external_data: the hash of an ID some other record carries (valid, or the same typo)
        """select e.rid as a, min(o.rid) as b, 'id_hash' as rule
           from recs e join recs o on o.sha = e.sha and o.rid <> e.rid and o.source_system <> 'external_data'
           where e.source_system = 'external_data' and e.sha is not null
           group by e.rid""",
    ]
    if True:
        # a bad-check-digit ID that is a one-character typo of exactly one valid ID
        name_rule = names_agree("b", "v") if cfg.id_typo_requires_name else "true"
        parts.append(f"""
            select a, b, 'id_typo' as rule from (
                select b.rid as a, min(v.rid) as b, count(distinct v.anchor) as n_anchor
                from recs b,
                     lateral ({id_typo_candidates_sql('b.bad_id')}) as c
                join recs v on v.anchor = 'R:' || c.cand
                where b.bad_id is not null and {name_rule}
                group by b.rid
            ) where n_anchor = 1""")
    if cfg.same_bad_id:
        parts.append(f"""
            select x.rid as a, min(y.rid) as b, 'same_bad_id' as rule
            from recs x join recs y on y.bad_id = x.bad_id and y.rid < x.rid
            where x.bad_id is not null and {names_compatible('x', 'y')}
            group by x.rid""")
    if cfg.policy_self_relation:
        parts.append(f"""
            select i.rid as a, h.rid as b, 'policy_self' as rule
            from recs i join recs h on h.pol = i.pol and h.prole = 'holder' and h.party_type = 'person'
            where i.prole = 'insured' and i.relation = 'self' and i.source_system = 'policy_admin'
              and h.source_system = 'policy_admin'
              and (i.anchor is null or h.anchor is null or i.anchor = h.anchor)
              and {surnames_compatible('i', 'h')}""")
    if cfg.wechat_account:
        parts.append("""
            select rid as a, min(rid) over (partition by unionid) as b, 'wechat_account' as rule
            from recs where unionid is not null
            union all
            select rid as a, min(rid) over (partition by wechat_id) as b, 'wechat_account' as rule
            from recs where wechat_id is not null""")
    parts.append("""
        select rid as a, min(rid) over (partition by nm) as b, 'enterprise_name' as rule
        from recs where party_type = 'enterprise' and anchor is null and nm is not null""")
    if cfg.id_hash_typos:
        parts.append(_id_hash_typo_edges(con, cfg.id_hash_typo_variants))
    union = "\nunion all\n".join(f"({p})" for p in parts)
    case = " ".join(f"when '{r}' then {i}" for r, i in prio.items())
    con.execute(f"""
        create or replace temp table det_edges as
        select a, b, rule, case rule {case} end as prio
        from ({union}) where a <> b
    """)


def deterministic_units(con: duckdb.DuckDBPyConnection, n: int, cfg: DeterministicConfig) -> dict[str, int]:
    """Temp table det(rid, unit, det_rule): the unit (smallest rid) each record belongs to after
    the deterministic rules, and the rule that put it there (null: alone). Returns edge counts."""
    deterministic_edges(con, cfg)
    a, b = con.execute("select a, b from det_edges").fetchnumpy().values()
    labels = components(n, a, b)
    # components holding two anchors: rebuild them in rule-priority order with anchors kept apart
    con.register("_labels", {"rid": np.arange(n, dtype=np.int64), "unit": labels})
    bad_units = con.execute("""
        select l.unit from _labels l join recs r on r.rid = l.rid
        where r.anchor is not null group by l.unit having count(distinct r.anchor) > 1
    """).fetchnumpy()["unit"]
    if len(bad_units):
        con.register("_bad_units", {"unit": bad_units})
        nodes = con.execute("""
            select l.rid, r.anchor from _labels l join _bad_units u using (unit) join recs r on r.rid = l.rid
        """).fetchall()
        edges = con.execute("""
            select e.a, e.b from det_edges e join _labels l on l.rid = e.a join _bad_units u using (unit)
            order by e.prio, e.a, e.b
        """).fetchall()
        con.unregister("_bad_units")
        local = {rid: i for i, (rid, _) in enumerate(nodes)}
        uf = ConstrainedUnionFind(len(nodes), anchors={local[r]: anc for r, anc in nodes if anc is not None})
        for x, y in edges:
            uf.union(local[x], local[y])
        sub = uf.labels()
        rids = np.array([r for r, _ in nodes], dtype=np.int64)
        labels[rids] = rids[sub]
    con.unregister("_labels")
    con.register("_labels", {"rid": np.arange(n, dtype=np.int64), "unit": labels})
    con.execute("""
        create or replace temp table det as
        with kept as (
            select e.a, e.b, e.rule, e.prio
            from det_edges e join _labels la on la.rid = e.a join _labels lb on lb.rid = e.b
            where la.unit = lb.unit
        ),
        first_rule as (
            select rid, arg_min(rule, prio) as det_rule
            from (select a as rid, rule, prio from kept union all select b as rid, rule, prio from kept)
            group by rid
        )
        select l.rid::integer as rid, l.unit::integer as unit,
               case when r.anchor is not null then
                    case left(r.anchor, 1) when 'R' then 'resident_id' when 'D' then 'document_no' else 'credit_code' end
               else f.det_rule end as det_rule
        from _labels l join recs r on r.rid = l.rid left join first_rule f on f.rid = l.rid
    """)
    con.unregister("_labels")
    counts = dict(con.execute("select rule, count(*) from det_edges group by rule").fetchall())
    counts["conflicted_components"] = int(len(bad_units))
    return counts
