"""Identity resolution end to end on one DuckDB connection: person records in, customers out.

    resolution = resolve(con, "identity.int_person_records", load_config(), previous="identity.customer_xref")
    con.sql("select * from xref")        # one row per record: customer_id, match_rule, ...
    con.sql("select * from id_events")   # merges and splits against `previous`

Steps (each its own module): records (matching columns) -> rules (deterministic units) ->
blocking (candidate and training pairs) -> linkage (Fellegi-Sunter, trained on ID-labelled
pairs) -> clustering (below) -> the mobile over the resolved customers
(`attach_by_exclusive_mobile`), the name likewise (name_evidence.py: with the agent, one
character off on the customer's number and a caller's name on the policy before the mobile
pass, alone after it) -> stable_ids. Everything heavy runs in DuckDB; Python walks
only the candidate edges between units.

Clustering of units (the deterministic groups): the edges are unit pairs whose best record
pair reaches `link_probability`. They are merged strongest first with a union-find that never
joins two different anchors (valid IDs) and never joins two units holding a pair of records
scored as different people (weight <= `conflict_weight_bits`, or a policy's holder and its
non-self insured). A unit without an anchor whose two best candidate anchors score within
`ambiguity_margin_bits` of each other (twins, a mobile shared by a couple) links to neither.
An edge whose pairs agree on a name and nothing else stands only when the two units' mobiles
and birth dates do not contradict each other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np

from .blocking import candidate_pairs, prepare_matching_view, training_pairs
from .clustering import ConstrainedUnionFind, components, move_customers
from .config import LinkageConfig, MatchingConfig
from .linkage import FSModel, score_pairs, train_model
from .name_evidence import attach_by_exclusive_key
from .records import prepare_records
from .rules import deterministic_units, sql_list
from .stable_ids import assign_customer_ids


# A pair linked by nothing but a shared mobile may be two people of one household (a family
# phone): such a pair links only when matching.yaml allows it (`mobile_alone_links`).
# A caller is not always the person the policy names (a relative may call), so a shared policy
# with a caller is no evidence of who the caller is. Nor is a name one character off: within a
# family it is the rule (a generation character shared by siblings, 陶龙 / 陶斌), so a pair with
# a `typo` name needs more than the mobile too - the same agent code will do (a lead the agent
# typed with one character off, on the customer's number).
MORE_THAN_A_MOBILE = ("(s.name in ('exact', 'exact_shared', 'exact_common', 'pinyin') or s.birth = 'exact' "
                      "or (s.policy like 'pol:%' and s.policy not like '%caller%') "
                      "or s.id_level in ('same_bad', 'one_off') or (s.name = 'typo' and s.agent = 'same'))")


@dataclass
class Resolution:
    records: int
    model: FSModel
    counts: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def cluster_units(con: duckdb.DuckDBPyConnection, n: int, cfg: LinkageConfig) -> dict[str, int]:
    """Temp table clusters(rid, cluster, match_rule, match_probability) from det + scored."""
    thr = cfg.link_probability
    # A unit edge whose pairs agree on a name and nothing else (no mobile, birth date, policy,
    # agent or ID form) is a *name-only* edge: it stands only when the two units' mobiles and
    # birth dates do not contradict each other (a namesake lead with another phone number).
    con.execute(f"""
        create or replace temp table uedges as
        with e as (
            select least(dx.unit, dy.unit) as ua, greatest(dx.unit, dy.unit) as ub,
                   max(s.weight) as w, max(s.probability) as p,
                   bool_and(s.mobile not in ('exact', 'shared') and s.birth <> 'exact' and s.policy = 'none'
                            and s.agent <> 'same' and s.id_level = 'null') as name_only
            from scored s join det dx on dx.rid = s.a join det dy on dy.rid = s.b
            where s.probability >= {thr} and not s.holder_insured_other and dx.unit <> dy.unit
              and ({'true' if cfg.mobile_alone_links else MORE_THAN_A_MOBILE})
            group by all
        ),
        unit_attrs as (
            select d.unit, list(distinct r.mob) filter (where r.mob is not null) as mobs,
                   list(distinct r.birth) filter (where r.birth is not null) as births
            from det d join recs r using (rid)
            where d.unit in (select ua from e where name_only union select ub from e where name_only)
            group by d.unit
        )
        select e.ua, e.ub, e.w, e.p, e.name_only
        from e
        left join unit_attrs xa on xa.unit = e.ua and e.name_only
        left join unit_attrs xb on xb.unit = e.ub and e.name_only
        where not e.name_only
           or ((array_length(coalesce(xa.mobs, [])) = 0 or array_length(coalesce(xb.mobs, [])) = 0 or list_has_any(xa.mobs, xb.mobs))
               and (array_length(coalesce(xa.births, [])) = 0 or array_length(coalesce(xb.births, [])) = 0
                    or list_has_any(xa.births, xb.births)))
    """)
    # ambiguous: an unanchored unit whose two best anchored candidates are too close to call
    con.execute(f"""
        create or replace temp table ambiguous as
        with e as (
            select ua as u, ub as v, w from uedges union all select ub as u, ua as v, w from uedges
        ),
        ea as (
            select e.u, e.w, row_number() over (partition by e.u order by e.w desc, e.v) as rk
            from e
            join unit_anchor au on au.unit = e.u and au.unit_anchor is null
            join unit_anchor av on av.unit = e.v and av.unit_anchor is not null
        )
        select u from ea where rk <= 2 group by u
        having count(*) = 2 and max(w) filter (where rk = 1) - max(w) filter (where rk = 2) < {cfg.ambiguity_margin_bits}
    """)
    con.execute("""
        create or replace temp table uedges_kept as
        select e.* from uedges e
        join unit_anchor aa on aa.unit = e.ua join unit_anchor ab on ab.unit = e.ub
        where not (e.ua in (select u from ambiguous) and ab.unit_anchor is not null)
          and not (e.ub in (select u from ambiguous) and aa.unit_anchor is not null)
    """)
    ua, ub, p, name_only = con.execute(
        "select ua, ub, p, name_only from uedges_kept order by w desc, ua, ub").fetchnumpy().values()
    name_only = np.asarray(name_only, dtype=bool)
    conflicts = con.execute(f"""
        select distinct dx.unit, dy.unit
        from scored s join det dx on dx.rid = s.a join det dy on dy.rid = s.b
        where (s.weight <= {cfg.conflict_weight_bits} or s.holder_insured_other) and dx.unit <> dy.unit
    """).fetchall()
    anchors = dict(con.execute("select unit, unit_anchor from unit_anchor where unit_anchor is not null").fetchall())
    # union-find over the units that take part in an edge or a conflict (compact numbering)
    nodes = np.unique(np.concatenate([ua, ub, np.array([c for pair in conflicts for c in pair], dtype=np.int64)]))
    index = {int(u): i for i, u in enumerate(nodes)}
    uf = ConstrainedUnionFind(
        len(nodes),
        anchors={index[u]: a for u, a in anchors.items() if u in index},
        conflicts=[(index[x], index[y]) for x, y in conflicts],
    )
    linked_p = np.zeros(len(nodes))
    refused = 0
    ia = np.fromiter((index[int(x)] for x in ua), dtype=np.int64, count=len(ua))
    ib = np.fromiter((index[int(x)] for x in ub), dtype=np.int64, count=len(ub))
    strong = ~name_only
    for x, y, prob in zip(ia[strong].tolist(), ib[strong].tolist(), p[strong].tolist()):
        if uf.union(x, y):
            if prob > linked_p[x]:
                linked_p[x] = prob
            if prob > linked_p[y]:
                linked_p[y] = prob
        else:
            refused += 1
    refused += _union_name_only(con, uf, nodes, ia[name_only], ib[name_only], p[name_only], linked_p)
    root = nodes[uf.labels()] if len(nodes) else nodes
    con.register("_unit_root", {"unit": nodes, "root": root, "linked_p": linked_p})
    con.execute("""
        create or replace temp table clusters as
        with unit_cluster as (
            select d.unit, coalesce(u.root, d.unit) as cluster, u.linked_p
            from (select distinct unit from det) d left join _unit_root u using (unit)
        ),
        base as (
            select d.rid, uc.cluster, d.unit, d.det_rule, uc.linked_p, ua.unit_anchor, r.resolvable,
                   count(*) over (partition by uc.cluster) as cluster_records,
                   count(*) over (partition by d.unit) as unit_records
            from det d join unit_cluster uc using (unit) join unit_anchor ua using (unit) join recs r using (rid)
        )
        select rid, cluster,
            case
                when not resolvable and cluster_records = 1 then 'unresolvable'
                when cluster_records = 1 then 'singleton'
                when unit_anchor is not null or coalesce(linked_p, 0) = 0 then coalesce(det_rule, 'singleton')
                else 'probabilistic'
            end as match_rule,
            case
                when cluster_records = 1 then null
                when unit_anchor is not null or coalesce(linked_p, 0) = 0 then 1.0
                else linked_p
            end as match_probability
        from base
    """)
    con.unregister("_unit_root")
    return {"unit_edges": int(len(ua)), "ambiguous_units": int(con.execute("select count(*) from ambiguous").fetchall()[0][0]),
            "conflicts": len(conflicts), "refused_merges": refused}


def _union_name_only(con: duckdb.DuckDBPyConnection, uf: ConstrainedUnionFind, nodes: np.ndarray, ia: np.ndarray,
                     ib: np.ndarray, p: np.ndarray, linked_p: np.ndarray) -> int:
    """Merge the name-only edges (strongest first) after every other edge, each only when the
    two *customers* it would join (not just its two units) hold no contradicting mobiles or birth
    dates: a chain cannot bring a namesake's child (a birth date on another record of the unit's
    customer) into an adult's customer on a name alone. Returns the edges refused."""
    if not len(ia):
        return 0
    touched = np.unique(np.concatenate([ia, ib]))
    roots = np.fromiter((uf.find(int(i)) for i in range(len(nodes))), dtype=np.int64, count=len(nodes))
    wanted = np.isin(roots, roots[touched])
    con.register("_no_units", {"unit": nodes[wanted], "root": roots[wanted]})
    rows = con.execute("""
        select u.root, list(distinct r.mob) filter (where r.mob is not null),
               list(distinct r.birth) filter (where r.birth is not null)
        from _no_units u join det d on d.unit = u.unit join recs r using (rid) group by u.root
    """).fetchall()
    con.unregister("_no_units")
    attrs: dict[int, tuple[set, set]] = {int(r): (set(m or ()), set(b or ())) for r, m, b in rows}
    refused = 0
    for x, y, prob in zip(ia.tolist(), ib.tolist(), p.tolist()):
        rx, ry = uf.find(x), uf.find(y)
        if rx == ry:
            continue
        (mx, bx), (my, by) = attrs.get(rx, (set(), set())), attrs.get(ry, (set(), set()))
        if (mx and my and not mx & my) or (bx and by and not bx & by) or not uf.union(x, y):
            refused += 1
            continue
        attrs[uf.find(x)] = (mx | my, bx | by)
        if prob > linked_p[x]:
            linked_p[x] = prob
        if prob > linked_p[y]:
            linked_p[y] = prob
    return refused


def attach_by_exclusive_mobile(con: duckdb.DuckDBPyConnection, cfg: LinkageConfig) -> dict[str, int]:
    """Second pass over `clusters`: the mobile as evidence once the customers are known.

    A customer that *names nobody* (no ID, no real name: an unverified app account, a caller who
    left only a number) joins the one customer that names someone and holds its mobile, when
    exactly one such customer holds it (the mobile's term frequency over the resolved customers
    is 1). A customer all of whose known birth dates are less than `minor_age_years` ago does
    not count as a holder (a child's claim or policy lists a parent's phone). A mobile held by
    two or more named adults (a family phone) links nothing; customers that name nobody and share
    a mobile no named customer holds are one (a second app account on the same number).
    Placeholders are never a `mob`; a mobile carried by more than `mobile_exclusive_max_records`
    records is a switchboard, not a person's, and links nothing. A record whose role is in
    `mobile_exclusive_never_roles` (a privacy request: a wrong match would export or erase
    someone else's data) is never attached by its mobile alone."""
    if not cfg.mobile_exclusive_links:
        return {"attached_clusters": 0, "attached_records": 0, "grouped_clusters": 0}
    con.execute("""
        create or replace temp table _cl as
        select c.rid, c.cluster, r.mob, r.party_type, r.birth, r.prole,
               r.anchor is not null or r.bad_id is not null or (r.nm is not null and not r.nick) as names_someone
        from clusters c join recs r using (rid)
    """)
    con.execute(f"""
        create or replace temp table _cinfo as
        select cluster, bool_or(names_someone) as named, bool_and(party_type = 'person') as person,
               coalesce(bool_or(prole in {sql_list(cfg.mobile_exclusive_never_roles)}), false) as never,
               coalesce(max(birth) > (select max(first_seen) from recs) - interval {int(cfg.minor_age_years)} year,
                        false) as minor
        from _cl group by cluster
    """)
    con.execute(f"""
        create or replace temp table _holders as
        select c.mob,
               count(distinct c.cluster) filter (where i.named and not i.minor) as adults,
               count(distinct c.cluster) filter (where i.named) as named,
               min(c.cluster) filter (where i.named and not i.minor) as target
        from _cl c join _cinfo i using (cluster)
        where c.mob is not null and i.person
        group by c.mob
        having count(*) <= {cfg.mobile_exclusive_max_records}
    """)
    # the nameless customers and the mobiles they carry
    con.execute("""
        create or replace temp table _stray_mob as
        select distinct c.cluster, c.mob from _cl c join _cinfo i using (cluster)
        where not i.named and i.person and not i.never and c.mob is not null
    """)
    con.execute("""
        create or replace temp table _attach as
        select s.cluster, min(h.target) as target, 'mobile_exclusive' as rule
        from _stray_mob s join _holders h using (mob)
        where h.adults >= 1
        group by s.cluster
        having count(distinct h.target) = 1 and max(h.adults) = 1
    """)
    # nameless customers sharing a mobile that no named customer holds (and attached to none)
    pairs = con.execute("""
        select a.cluster as ca, b.cluster as cb
        from _stray_mob a join _stray_mob b on a.mob = b.mob and a.cluster < b.cluster
        join _holders h on h.mob = a.mob
        where h.named = 0
          and a.cluster not in (select cluster from _stray_mob join _holders using (mob) where adults >= 1)
          and b.cluster not in (select cluster from _stray_mob join _holders using (mob) where adults >= 1)
    """).fetchnumpy()
    ga, gb = pairs["ca"], pairs["cb"]
    grouped = 0
    if len(ga):
        nodes = np.unique(np.concatenate([ga, gb]))
        index = {int(u): i for i, u in enumerate(nodes)}
        labels = components(len(nodes), np.fromiter((index[int(x)] for x in ga), np.int64, len(ga)),
                            np.fromiter((index[int(x)] for x in gb), np.int64, len(gb)))
        con.register("_grp", {"cluster": nodes, "target": nodes[labels]})
        con.execute("insert into _attach select cluster, target, 'mobile_exclusive' from _grp where cluster <> target")
        grouped = int((nodes != nodes[labels]).sum())
        con.unregister("_grp")
    by_policy = _attach_callers_by_policy(con) if cfg.caller_policy_links else 0
    # the attached records, and a target that was a lone record, are customers by this rule
    attached_clusters, attached_records = move_customers(con, "_attach")
    for t in ("_cl", "_cinfo", "_holders", "_stray_mob", "_attach"):
        con.execute(f"drop table {t}")
    return {"attached_clusters": attached_clusters - grouped, "attached_records": attached_records,
            "grouped_clusters": grouped, "attached_by_policy": by_policy}


def _attach_callers_by_policy(con: duckdb.DuckDBPyConnection) -> int:
    """The policy a nameless caller calls about, where the mobile could not decide (`_attach`
    rows with rule `caller_policy`; see `attach_by_exclusive_mobile`).

    A nameless customer (after the mobile pass and its grouping) whose calls all name policies
    held by one and the same named adult person joins that holder when nothing about the
    numbers speaks against it: the holder holds no mobile at all and no named customer holds
    the caller's number. On a family phone (the number the holder and another named adult
    hold) the policy does not break the tie: a spouse calls about the partner's policy from it
    (one such attachment in seven was the spouse at 1M records). A caller whose number another
    named customer holds is that customer or nobody, and a caller without a mobile stays apart
    (unresolvable: a policy number alone is no identity). Returns the customers attached."""
    con.execute("""
        create or replace temp table _policy_attach as
        with grp as (
            select s.cluster, coalesce(a.target, s.cluster) as g
            from (select cluster from _cinfo where not named and person and not never) s
            left join _attach a using (cluster)
            where a.target is null or a.target in (select cluster from _cinfo where not named)
        ),
        calls as (
            select distinct g.g, r.pol from grp g join _cl c using (cluster) join recs r using (rid)
            where r.source_system = 'call_center' and r.pol is not null
        ),
        policy_holder as (
            select r.pol, min(c.cluster) as target, count(distinct c.cluster) as k
            from _cl c join recs r using (rid)
            where r.source_system = 'policy_admin' and r.prole = 'holder' and r.party_type = 'person'
            group by r.pol
        ),
        cand as (
            select cl.g, min(ph.target) as target
            from calls cl left join policy_holder ph using (pol)
            group by cl.g
            having count(distinct ph.target) = 1 and count(ph.target) = count(*) and max(ph.k) = 1
        ),
        gmob as (select distinct g.g, c.mob from grp g join _cl c using (cluster) where c.mob is not null),
        tmob as (select distinct cluster, mob from _cl where mob is not null)
        select c.g, c.target
        from cand c join _cinfo t on t.cluster = c.target
        where t.named and not t.minor and t.person
          and c.g in (select g from gmob)
          and c.target not in (select cluster from tmob)
          and not exists (select 1 from gmob m join _holders h using (mob) where m.g = c.g and h.named > 0)
    """)
    n = con.execute("select count(*) from _policy_attach").fetchall()[0][0]
    con.execute("""
        create or replace temp table _attach as
        select a.cluster, coalesce(p.target, a.target) as target,
               case when p.target is null then a.rule else 'caller_policy' end as rule
        from _attach a left join _policy_attach p on p.g = a.target
        union all
        select g, target, 'caller_policy' from _policy_attach
    """)
    con.execute("drop table _policy_attach")
    return int(n)


def resolve(con: duckdb.DuckDBPyConnection, source: str, cfg: MatchingConfig, previous: str | None = None) -> Resolution:
    """Resolve the person records of `source`; leaves temp table `xref` (and `id_events`)."""
    seconds: dict[str, float] = {}
    counts: dict[str, dict] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        seconds[name] = round(now - t, 3)
        t = now

    con.execute(f"set memory_limit = '{cfg.engine.memory_limit_gb}GB'")
    con.execute(f"set threads = {cfg.engine.threads}")
    con.execute("set preserve_insertion_order = false")  # every order that matters is explicit
    n = prepare_records(con, source)
    lap("records")
    counts["deterministic_edges"] = deterministic_units(con, n, cfg.deterministic)
    lap("deterministic")
    prepare_matching_view(con)
    counts["candidate_pairs"] = candidate_pairs(con, cfg.blocking)
    counts["training_pairs"] = training_pairs(con, cfg.blocking, cfg.linkage.max_training_pairs)
    lap("blocking")
    model = train_model(con, cfg.linkage)
    score_pairs(con, model, cfg.linkage)
    lap("scoring")
    counts["clustering"] = cluster_units(con, n, cfg.linkage)

    def name_passes(*rules: str) -> None:  # each behind its switch `linkage.<rule>_links`
        for rule in rules:
            if getattr(cfg.linkage, f"{rule}_links"):
                counts["clustering"].update(attach_by_exclusive_key(con, rule, cfg.linkage.mobile_exclusive_never_roles))

    name_passes("name_agent", "name_typo_mobile", "caller_policy_name")
    counts["clustering"].update(attach_by_exclusive_mobile(con, cfg.linkage))
    name_passes("name_exclusive")
    lap("clustering")
    counts["ids"] = assign_customer_ids(con, previous)
    con.execute("""
        create or replace temp table xref as
        select r.source_system, r.source_entity, r.role, r.source_record_id, n.customer_id, r.party_type,
               c.match_rule, cast(c.match_probability as double) as match_probability,
               r.resolvable as is_resolvable, n.is_anchor, r.first_seen as first_seen_date
        from recs r join clusters c using (rid) join named n using (rid)
        order by r.source_system, r.source_record_id
    """)
    lap("stable_ids")
    return Resolution(records=n, model=model, counts=counts, seconds=seconds)
