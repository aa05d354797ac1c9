"""Stable customer ids: the clusters of today's run named so that yesterday's ids survive.

Every run clusters all records from scratch (deterministic given the data); this module only
names the clusters.

- **Anchor.** A cluster's anchor is its record first seen earliest (`first_seen_date`, the first
  business date any version of it was delivered), ties broken by the smallest record key
  (source_system, source_record_id). A new customer's id is derived from its anchor alone:
  `C` + the first 16 hex digits of SHA-256(`<source_system>:<source_record_id>`). So a rebuild
  from scratch names every cluster exactly as the daily runs did, as long as records arrive in
  business-date order: a new record is never older than the records already there, so it never
  becomes the anchor of an existing cluster.
- **Daily run.** A record seen before keeps pointing at its previous customer id when its cluster
  does. Each previous id goes to one cluster: the one holding the id's previous anchor record
  (or, if that record is gone, most of its previous records). A cluster that receives several
  previous ids is a **merge**: the oldest id (earliest anchor) survives, the others are recorded
  in `customer_id_history` as merged into it. A cluster that receives none takes the id derived
  from its own anchor; if its records came from an id that lives on elsewhere that is a
  **split**, recorded too. An existing id is never renamed otherwise, even when a late delivery
  brings a record older than the id's anchor (a case where a rebuild from scratch would name
  that cluster after the late record instead). The other such case: an erasure purges the
  anchor record from the lake (a row of someone else carrying the erased person's mobile); the
  daily runs keep the id, a rebuild derives it from the cluster's oldest remaining record.
"""

from __future__ import annotations

import duckdb

ID_SQL = "'C' || upper(substr(sha256({sys} || ':' || {rec}), 1, 16))"


def customer_id_sql(system: str, record: str) -> str:
    return ID_SQL.format(sys=system, rec=record)


def assign_customer_ids(con: duckdb.DuckDBPyConnection, previous: str | None) -> dict[str, int]:
    """Temp tables `named(rid, customer_id, is_anchor)` and `id_events(event_type,
    from_customer_id, to_customer_id, records)` from `clusters(rid, cluster)` and `recs`.
    `previous` is the last run's xref (source_system, source_record_id, customer_id, is_anchor,
    first_seen_date) or None for a run from scratch."""
    con.execute(f"""
        create or replace temp table cluster_anchor as
        select c.cluster, arg_min(r.rid, (r.first_seen, r.rid)) as anchor_rid,
               min(r.first_seen) as anchor_first_seen
        from clusters c join recs r using (rid)
        group by c.cluster
    """)
    con.execute(f"""
        create or replace temp table derived_id as
        select a.cluster, a.anchor_rid, {customer_id_sql('r.source_system', 'r.source_record_id')} as customer_id
        from cluster_anchor a join recs r on r.rid = a.anchor_rid
    """)
    if previous is None:
        con.execute("""
            create or replace temp table cluster_id as
            select cluster, customer_id from derived_id
        """)
        con.execute("""
            create or replace temp table id_events (event_type varchar, from_customer_id varchar,
                                                    to_customer_id varchar, records bigint)
        """)
    else:
        _assign_with_previous(con, previous)
    dupes = con.execute("select count(*) - count(distinct customer_id) from cluster_id").fetchall()[0][0]
    if dupes:
        # an id derived for a new cluster that an older cluster still carries: derive it again
        con.execute("""
            create or replace temp table cluster_id as
            select cluster,
                   case when row_number() over (partition by customer_id order by cluster) = 1 then customer_id
                        else customer_id || '-' || cast(row_number() over (partition by customer_id order by cluster) as varchar)
                   end as customer_id
            from cluster_id
        """)
    con.execute("""
        create or replace temp table named as
        select c.rid, i.customer_id, c.rid = a.anchor_rid as is_anchor
        from clusters c
        join cluster_id i using (cluster)
        join cluster_anchor a using (cluster)
    """)
    counts = dict(con.execute("select event_type, count(*) from id_events group by 1").fetchall())
    return {"merges": int(counts.get("merge", 0)), "splits": int(counts.get("split", 0)), "id_collisions": int(dupes)}


def _assign_with_previous(con: duckdb.DuckDBPyConnection, previous: str) -> None:
    con.execute(f"""
        create or replace temp table prev_records as
        select r.rid, p.customer_id as old_id, coalesce(p.is_anchor, false) as was_anchor,
               coalesce(p.first_seen_date, r.first_seen) as first_seen, r.source_system, r.source_record_id
        from {previous} p
        join recs r using (source_system, source_record_id)
    """)
    con.execute(f"""
        create or replace temp table prev_age as
        select customer_id as old_id,
               min((coalesce(first_seen_date, date '1900-01-01'), source_system, source_record_id)) as age
        from {previous}
        group by customer_id
    """)
    # each previous id goes to one cluster: the one holding its anchor record, else most of its records
    con.execute("""
        create or replace temp table old_home as
        select old_id, arg_max(cluster, (has_anchor, n, -cluster)) as cluster
        from (
            select p.old_id, c.cluster, bool_or(p.was_anchor) as has_anchor, count(*) as n
            from prev_records p join clusters c using (rid)
            group by p.old_id, c.cluster
        )
        group by old_id
    """)
    con.execute("""
        create or replace temp table cluster_id as
        with ranked as (
            select h.cluster, h.old_id, row_number() over (partition by h.cluster order by a.age, h.old_id) as rk
            from old_home h join prev_age a using (old_id)
        )
        select d.cluster, coalesce(r.old_id, d.customer_id) as customer_id
        from derived_id d left join ranked r on r.cluster = d.cluster and r.rk = 1
    """)
    con.execute("""
        create or replace temp table id_events as
        -- merge: the id's home cluster is named after an older id; split: records of an id
        -- went to another cluster than its home
        select case when h.cluster = c.cluster then 'merge' else 'split' end as event_type,
               p.old_id as from_customer_id, i.customer_id as to_customer_id, count(*) as records
        from prev_records p
        join clusters c using (rid)
        join cluster_id i using (cluster)
        join old_home h on h.old_id = p.old_id
        where p.old_id <> i.customer_id
        group by all
    """)
