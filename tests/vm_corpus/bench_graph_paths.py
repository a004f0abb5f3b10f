"""Graphs: Dijkstra with heapq, Bellman-Ford, Floyd-Warshall, topological sort, BFS maze and union-find."""

import heapq
from collections import deque

EDGES = [("A", "B", 4), ("A", "C", 2), ("B", "C", 5), ("B", "D", 10), ("C", "E", 3), ("E", "D", 4), ("D", "F", 11),
         ("E", "F", 12), ("C", "B", 1)]
graph = {}
for u, v, w in EDGES:
    graph.setdefault(u, []).append((v, w))
    graph.setdefault(v, [])


def dijkstra(source):
    dist, previous = {source: 0}, {}
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in graph[u]:
            if d + w < dist.get(v, float("inf")):
                dist[v], previous[v] = d + w, u
                heapq.heappush(heap, (d + w, v))
    return dist, previous


def path_to(previous, target):
    path = [target]
    while path[-1] in previous:
        path.append(previous[path[-1]])
    return "->".join(reversed(path))


def bellman_ford(source):
    dist = {v: float("inf") for v in graph}
    dist[source] = 0
    for _ in range(len(graph) - 1):
        for u, v, w in EDGES:
            if dist[u] + w < dist[v]:
                dist[v] = dist[u] + w
    return dist


def floyd():
    nodes = sorted(graph)
    dist = {(a, b): 0 if a == b else float("inf") for a in nodes for b in nodes}
    for u, v, w in EDGES:
        dist[u, v] = min(dist[u, v], w)
    for k in nodes:
        for i in nodes:
            for j in nodes:
                if dist[i, k] + dist[k, j] < dist[i, j]:
                    dist[i, j] = dist[i, k] + dist[k, j]
    return dist


def topological(dependencies):
    indegree = {n: 0 for n in dependencies}
    for deps in dependencies.values():
        for d in deps:
            indegree[d] = indegree.get(d, 0)
    for n, deps in dependencies.items():
        indegree[n] = len(deps)
    ready = deque(sorted(n for n, k in indegree.items() if k == 0))
    order = []
    while ready:
        n = ready.popleft()
        order.append(n)
        for m in sorted(dependencies):
            if n in dependencies[m]:
                indegree[m] -= 1
                if indegree[m] == 0:
                    ready.append(m)
    if len(order) != len(indegree):
        raise ValueError("cycle detected")
    return order


MAZE = ["S.#.....", ".##.###.", "....#...", "##.##.#.", "...#..#E"]


def bfs_maze():
    start = next((r, c) for r, row in enumerate(MAZE) for c, ch in enumerate(row) if ch == "S")
    queue, seen = deque([(start, 0)]), {start}
    while queue:
        (r, c), d = queue.popleft()
        if MAZE[r][c] == "E":
            return d
        for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= nr < len(MAZE) and 0 <= nc < len(MAZE[0]) and MAZE[nr][nc] != "#" and (nr, nc) not in seen:
                seen.add((nr, nc))
                queue.append(((nr, nc), d + 1))
    return None


class UnionFind:
    def __init__(self, items):
        self.parent = {i: i for i in items}
        self.rank = {i: 0 for i in items}

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if self.rank[ra] < self.rank[rb]:
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.rank[ra] += self.rank[ra] == self.rank[rb]
        return True


dist, previous = dijkstra("A")
print(sorted(dist.items()), path_to(previous, "F"))
print(bellman_ford("A") == dist)
all_pairs = floyd()
print(all_pairs["A", "F"], all_pairs["B", "E"], all_pairs["F", "A"])
print(topological({"app": ["lib", "log"], "lib": ["core"], "log": ["core"], "core": [], "test": ["app"]}))
print("maze steps", bfs_maze())
uf = UnionFind(sorted(graph))
mst = [(w, u, v) for w, u, v in sorted((w, u, v) for u, v, w in EDGES) if uf.union(u, v)]
print("kruskal", mst, sum(w for w, _, _ in mst))
topological({"a": ["b"], "b": ["a"]})
