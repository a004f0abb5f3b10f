"""dict and set operations: views, merging, setdefault/pop, ordering guarantees, set algebra and frozensets."""

inventory = {"apples": 3, "pears": 0, "kiwis": 12}
inventory["plums"] = 5
inventory.update(pears=2, figs=1)
print(inventory, list(inventory), list(inventory.values()), len(inventory))
print(inventory.pop("figs"), inventory.pop("missing", "default"), inventory.setdefault("limes", 9), inventory.setdefault("apples", 0))
print(inventory.get("kiwis"), inventory.get("nope"), "plums" in inventory, 5 in inventory.values())
keys = inventory.keys()
inventory["dates"] = 4
print(keys, keys & {"apples", "zzz"}, sorted(keys - {"apples"}), sorted(inventory.items(), key=lambda kv: kv[1])[:2])
merged = {"a": 1, "b": 2} | {"b": 3, "c": 4}
merged |= {"d": 5}
print(merged, dict.fromkeys("xyz", 0), dict(zip("ab", [1, 2])), dict([("k", "v")]), {**merged, "a": 0})
print(merged.popitem(), merged, list(reversed(merged)), next(iter(merged)))
counts = {}
for ch in "abracadabra":
    counts[ch] = counts.get(ch, 0) + 1
print(counts, max(counts, key=counts.get), sorted(counts, key=lambda k: (-counts[k], k)))
nested = {"a": {"b": {"c": 1}}}
nested["a"]["b"]["d"] = 2
print(nested, nested["a"]["b"].keys() == {"c", "d"})
copy = dict(nested)
copy["a"] = "replaced"
print(nested["a"] != copy["a"], {1: "int", 1.0: "float", True: "bool"})
evens, threes = set(range(0, 20, 2)), set(range(0, 20, 3))
print(sorted(evens & threes), sorted(evens | threes)[:6], sorted(evens - threes)[:4], sorted(evens ^ threes)[:5])
print(evens.isdisjoint({1, 3}), {2, 4} <= evens, {2, 4} < {2, 4}, evens.issuperset(range(0, 10, 2)))
s = {3, 1, 2}
s.add(4)
s.discard(10)
s.remove(1)
s |= {9}
s -= {2}
print(sorted(s), len(s), sorted(s.union([7], (8,))), sorted(s.intersection(range(5))))
frozen = frozenset("hello")
print(sorted(frozen), frozen | {"z"} == frozenset("helloz"), {frozen: "as key"}[frozenset("olleh")])
print(sorted({x % 4 for x in range(10)}), set() == set(), {} == dict(), type({}).__name__)
d = {"x": 1}
try:
    for key in d:
        d["y"] = 2
except RuntimeError as error:
    print("RuntimeError:", error)
s.remove(100)
