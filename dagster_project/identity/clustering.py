"""Clustering primitives: connected components and a union-find that refuses forbidden merges.

- `components(n, a, b)`: connected components of an undirected graph given as edge arrays,
  labelled by the smallest node of each component (vectorised, scipy).
- `move_customers(con, moves)`: the passes after clustering (a customer joins another by its
  mobile, its policy, its name) apply their moves to temp table `clusters` with it.
- `ConstrainedUnionFind`: union by size with two kinds of constraint checked at every merge:
  an *anchor* per set (a valid ID: two sets with different anchors never merge) and
  *conflicts* (pairs of nodes scored as two different people: the sets holding them never
  merge). Merges happen in the order the caller gives (descending match weight), so the
  strongest evidence wins and a weaker edge that would chain two people together is refused.
"""

from __future__ import annotations

import duckdb
import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Label of each node 0..n-1: the smallest node of its connected component."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n)).tocsr()
    _, comp = connected_components(graph, directed=False)
    smallest = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n, dtype=np.int64))
    return smallest[comp]


class ConstrainedUnionFind:
    """Union-find over nodes 0..n-1 with anchors and pairwise conflicts (see module doc)."""

    def __init__(self, n: int, anchors: dict[int, str] | None = None,
                 conflicts: list[tuple[int, int]] | None = None):
        self.parent = list(range(n))
        self.size = [1] * n
        self.anchor: dict[int, str] = dict(anchors or {})
        self.conflicts: dict[int, set[int]] = {}
        for x, y in conflicts or ():
            if x == y:
                continue
            self.conflicts.setdefault(x, set()).add(y)
            self.conflicts.setdefault(y, set()).add(x)

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def can_merge(self, rx: int, ry: int) -> bool:
        """Whether the sets with roots rx and ry may become one (rx != ry)."""
        ax, ay = self.anchor.get(rx), self.anchor.get(ry)
        if ax is not None and ay is not None and ax != ay:
            return False
        cx, cy = self.conflicts.get(rx), self.conflicts.get(ry)
        if cx and cy:
            small, other = (cx, ry) if len(cx) <= len(cy) else (cy, rx)
        elif cx:
            small, other = cx, ry
        elif cy:
            small, other = cy, rx
        else:
            return True
        find = self.find
        return all(find(z) != other for z in small)

    def union(self, x: int, y: int) -> bool:
        """Merge the sets of x and y unless forbidden; True when they are (now) one set."""
        rx, ry = self.find(x), self.find(y)
        if rx == ry:
            return True
        if not self.can_merge(rx, ry):
            return False
        if self.size[rx] < self.size[ry]:
            rx, ry = ry, rx
        self.parent[ry] = rx
        self.size[rx] += self.size[ry]
        ay = self.anchor.pop(ry, None)
        if ay is not None:
            self.anchor[rx] = ay
        cy = self.conflicts.pop(ry, None)
        if cy:
            cx = self.conflicts.get(rx)
            if cx is None:
                self.conflicts[rx] = cy
            else:
                cx |= cy
        return True

    def labels(self) -> np.ndarray:
        """Root of every node, as the smallest node of its set."""
        n = len(self.parent)
        roots = np.asarray(self.parent, dtype=np.int64)
        while True:  # pointer jumping until every node points at its root
            nxt = roots[roots]
            if np.array_equal(nxt, roots):
                break
            roots = nxt
        smallest = np.full(n, n, dtype=np.int64)
        np.minimum.at(smallest, roots, np.arange(n, dtype=np.int64))
        return smallest[roots]


def move_customers(con: duckdb.DuckDBPyConnection, moves: str) -> tuple[int, int]:
    """Apply the relation `moves` (cluster, target, rule) to temp table `clusters`: every record of
    `cluster` joins `target`, taking `rule` as its match_rule and, as its match_probability, the
    best scored pair (temp table `scored`) between the moved customer and its target (null when
    no pair was scored); a target that was a lone record takes the rule too. Returns (customers
    moved, records moved)."""
    con.execute(f"""
        create or replace temp table _moves_p as
        with pairs as (
            select x.cluster, s.probability from {moves} a
            join clusters x on x.cluster = a.cluster join scored s on s.a = x.rid
            join clusters y on y.rid = s.b and y.cluster = a.target
            union all
            select x.cluster, s.probability from {moves} a
            join clusters x on x.cluster = a.cluster join scored s on s.b = x.rid
            join clusters y on y.rid = s.a and y.cluster = a.target
        )
        select a.cluster, a.target, a.rule, max(p.probability) as p
        from {moves} a left join pairs p using (cluster)
        group by all
    """)
    moved = con.execute("""
        select count(*), coalesce(sum(n), 0) from (
            select m.cluster, count(*) as n from _moves_p m join clusters c using (cluster) group by 1)
    """).fetchall()[0]
    con.execute("""
        create or replace temp table clusters as
        with target_p as (select target, max(p) as p, min(rule) as rule from _moves_p group by 1)
        select c.rid, coalesce(a.target, c.cluster) as cluster,
               case when a.target is not null then a.rule
                    when t.target is not null and c.match_rule in ('singleton', 'unresolvable') then t.rule
                    else c.match_rule end as match_rule,
               case when a.target is not null then a.p
                    when t.target is not null and c.match_rule in ('singleton', 'unresolvable') then t.p
                    else c.match_probability end as match_probability
        from clusters c
        left join _moves_p a on a.cluster = c.cluster
        left join target_p t on t.target = c.cluster
    """)
    con.execute("drop table _moves_p")
    return int(moved[0]), int(moved[1])
