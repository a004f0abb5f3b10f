"""Graph algorithms: BFS, DFS (recursive and iterative), Dijkstra, topological sort with cycle errors."""
import heapq
from collections import deque

GRAPH = {"a": {"b": 7, "c": 9, "f": 14}, "b": {"a": 7, "c": 10, "d": 15}, "c": {"a": 9, "b": 10, "d": 11, "f": 2},
         "d": {"b": 15, "c": 11, "e": 6}, "e": {"d": 6, "f": 9}, "f": {"a": 14, "c": 2, "e": 9}}


def bfs(start):
    seen, order, queue = {start}, [], deque([start])
    while queue:
        node = queue.popleft()
        order.append(node)
        for nxt in sorted(GRAPH[node]):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return order


def dfs(node, seen=None):
    seen = set() if seen is None else seen
    seen.add(node)
    yield node
    for nxt in sorted(GRAPH[node]):
        if nxt not in seen:
            yield from dfs(nxt, seen)


def dijkstra(source):
    dist = {source: 0}
    heap = [(0, source)]
    while heap:
        d, node = heapq.heappop(heap)
        if d > dist.get(node, float("inf")):
            continue
        for nxt, w in GRAPH[node].items():
            if d + w < dist.get(nxt, float("inf")):
                dist[nxt] = d + w
                heapq.heappush(heap, (d + w, nxt))
    return dict(sorted(dist.items()))


class CycleError(Exception):
    pass


def toposort(deps):
    state, order = {}, []

    def visit(n, path):
        if state.get(n) == "done":
            return
        if state.get(n) == "active":
            raise CycleError(" -> ".join(path + [n]))
        state[n] = "active"
        for m in deps.get(n, ()):
            visit(m, path + [n])
        state[n] = "done"
        order.append(n)
    for n in sorted(deps):
        visit(n, [])
    return order


print(bfs("a"), list(dfs("a")), dijkstra("a"))
print(toposort({"app": ["lib", "log"], "lib": ["log"], "log": []}))
try:
    toposort({"x": ["y"], "y": ["z"], "z": ["x"]})
except CycleError as e:
    print("cycle:", e)
