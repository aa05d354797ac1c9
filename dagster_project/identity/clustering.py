"""Clustering primitives: connected components and a union-find that refuses forbidden merges.

- `components(n, a, b)`: connected components of an undirected graph given as edge arrays,
  labelled by the smallest node of each component (vectorised, scipy).
- `ConstrainedUnionFind`: union by size with two kinds of constraint checked at every merge:
  an *anchor* per set (a valid ID: two sets with different anchors never merge) and
  *conflicts* (pairs of nodes scored as two different people: the sets holding them never
  merge). Merges happen in the order the caller gives (descending match weight), so the
  strongest evidence wins and a weaker edge that would chain two people together is refused.
"""

from __future__ import annotations

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
