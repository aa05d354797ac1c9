"""Identity resolution end to end on one DuckDB connection: person records in, customers out.

    resolution = resolve(con, "identity.int_person_records", load_config(), previous="identity.customer_xref")
    con.sql("select * from xref")        # one row per record: customer_id, match_rule, ...
    con.sql("select * from id_events")   # merges and splits against `previous`

Steps (each its own module): records (matching columns) -> rules (deterministic units) ->
blocking (candidate and training pairs) -> linkage (Fellegi-Sunter, trained on ID-labelled
pairs) -> clustering (below) -> stable_ids. Everything heavy runs in DuckDB; Python walks only
the candidate edges between units.

Clustering of units (the deterministic groups): the edges are unit pairs whose best record
pair reaches `link_probability`. They are merged strongest first with a union-find that never
joins two different anchors (valid IDs) and never joins two units holding a pair of records
scored as different people (weight <= `conflict_weight_bits`, or a policy's holder and its
non-self insured). A unit without an anchor whose two best candidate anchors score within
`ambiguity_margin_bits` of each other (twins, a mobile shared by a couple) links to neither.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import duckdb
import numpy as np

from .blocking import candidate_pairs, prepare_matching_view, training_pairs
from .clustering import ConstrainedUnionFind
from .config import LinkageConfig, MatchingConfig
from .linkage import FSModel, score_pairs, train_model
from .records import prepare_records
from .rules import deterministic_units
from .stable_ids import assign_customer_ids


# A pair linked by nothing but a shared mobile may be two people of one household (a family
# phone): such a pair links only when matching.yaml allows it (`mobile_alone_links`).
# A caller is not always the person the policy names (a relative may call), so a shared policy
# with a caller is no evidence of who the caller is.
MORE_THAN_A_MOBILE = ("(s.name in ('exact', 'exact_shared', 'exact_common', 'pinyin', 'typo') or s.birth = 'exact' "
                      "or (s.policy like 'pol:%' and s.policy not like '%caller%') "
                      "or s.id_level in ('same_bad', 'one_off'))")


@dataclass
class Resolution:
    records: int
    model: FSModel
    counts: dict[str, dict] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def cluster_units(con: duckdb.DuckDBPyConnection, n: int, cfg: LinkageConfig) -> dict[str, int]:
    """Temp table clusters(rid, cluster, match_rule, match_probability) from det + scored."""
    thr = cfg.link_probability
    con.execute(f"""
        create or replace temp table uedges as
        select least(dx.unit, dy.unit) as ua, greatest(dx.unit, dy.unit) as ub,
               max(s.weight) as w, max(s.probability) as p
        from scored s join det dx on dx.rid = s.a join det dy on dy.rid = s.b
        where s.probability >= {thr} and not s.holder_insured_other and dx.unit <> dy.unit
          and ({'true' if cfg.mobile_alone_links else MORE_THAN_A_MOBILE})
        group by all
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
    ua, ub, p = con.execute("select ua, ub, p from uedges_kept order by w desc, ua, ub").fetchnumpy().values()
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
    for x, y, prob in zip(ia.tolist(), ib.tolist(), p.tolist()):
        if uf.union(x, y):
            if prob > linked_p[x]:
                linked_p[x] = prob
            if prob > linked_p[y]:
                linked_p[y] = prob
        else:
            refused += 1
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
