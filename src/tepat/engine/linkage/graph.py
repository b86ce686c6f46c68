"""Clusters that never hold two different valid NIKs.

Transitive closure is how linkage goes wrong at scale: A–B and B–C are each plausible, and A and C are two people
who each own a valid NIK. A person with two valid NIKs does exist (DOMAIN.md counts them), but deciding that is a
reviewer's job, so every union here keeps at most one anchor (valid NIK) per cluster and reports what it refused.
"""

from __future__ import annotations

from collections.abc import Iterable


class AnchoredClusters:
    """Union-find over cluster ids, each root carrying at most one anchor."""

    def __init__(self, anchors: dict[int, str] | None = None) -> None:
        self._parent: dict[int, int] = {}
        self._anchor = dict(anchors or {})  # root -> anchor; clusters without an anchor are simply absent
        self._seen: set[int] = set(self._anchor)

    def know(self, anchors: dict[int, str | None]) -> None:
        """Anchors of clusters about to be joined; only clusters the graph has not met yet take them.

        A million clusters carry a valid NIK, but only the few that rules or the model want to join matter here.
        """
        for node, anchor in anchors.items():
            if node not in self._seen:
                self._seen.add(node)
                if anchor is not None:
                    self._anchor[node] = anchor

    def find(self, node: int) -> int:
        parent = self._parent
        root = node
        while (up := parent.get(root, root)) != root:
            root = up
        while node != root:  # path compression
            up = parent[node]
            parent[node] = root
            node = up
        return root

    def union(self, left: int, right: int) -> bool:
        """Join two clusters unless that would put two different anchors in one; True when joined (or already)."""
        a, b = self.find(left), self.find(right)
        self._seen.update((left, right, a, b))
        if a == b:
            return True
        anchor_a, anchor_b = self._anchor.get(a), self._anchor.get(b)
        if anchor_a is not None and anchor_b is not None and anchor_a != anchor_b:
            return False
        if b < a:  # the smaller id stays the root: stable, and the first record names the cluster
            a, b = b, a
            anchor_a, anchor_b = anchor_b, anchor_a
        self._parent[b] = a
        anchor = anchor_a if anchor_a is not None else anchor_b
        if anchor is not None:
            self._anchor[a] = anchor
        self._anchor.pop(b, None)
        return True

    def anchor(self, node: int) -> str | None:
        return self._anchor.get(self.find(node))

    def moved(self) -> Iterable[tuple[int, int]]:
        """(cluster, root) for every cluster that was joined into another."""
        for node in list(self._parent):
            root = self.find(node)
            if root != node:
                yield node, root
