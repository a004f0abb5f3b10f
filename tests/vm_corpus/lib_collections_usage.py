"""collections: Counter arithmetic, deque rotation, defaultdict trees, OrderedDict LRU, ChainMap, namedtuple."""

from collections import ChainMap, Counter, OrderedDict, defaultdict, deque, namedtuple

TEXT = """the quick brown fox jumps over the lazy dog the fox barks and the dog sleeps"""
counts = Counter(TEXT.split())
print(counts.most_common(3), counts["missing"], sum(counts.values()))
other = Counter({"the": 1, "cat": 2})
print(sorted((counts & other).items()), sorted((other - counts).items()), (counts + other)["cat"])
letters = Counter(c for c in TEXT if c.isalpha())
print("".join(sorted(letters.elements()))[:20], letters.total() if hasattr(letters, "total") else "")


def tree():
    return defaultdict(tree)


taxonomy = tree()
for path in ["animal/mammal/dog", "animal/mammal/cat", "animal/bird/owl", "plant/tree/oak"]:
    node = taxonomy
    for part in path.split("/"):
        node = node[part]


def to_plain(node):
    return {k: to_plain(v) for k, v in sorted(node.items())}


print(to_plain(taxonomy))
groups = defaultdict(list)
for word in TEXT.split():
    groups[len(word)].append(word)
print(sorted((k, len(v)) for k, v in groups.items()))


class LRU(OrderedDict):
    def __init__(self, capacity):
        super().__init__()
        self.capacity = capacity

    def get_item(self, key):
        self.move_to_end(key)
        return self[key]

    def put(self, key, value):
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.capacity:
            self.popitem(last=False)


cache = LRU(3)
for key in "abcadea":
    if key in cache:
        cache.get_item(key)
    else:
        cache.put(key, key.upper())
print(list(cache.items()))

ring = deque(range(8), maxlen=8)
ring.rotate(3)
print(ring, ring.popleft(), ring.pop())
ring.extendleft("xy")
ring.append(99)
print(list(ring), ring.count("x"), ring.index(99), ring.maxlen)

defaults = {"color": "red", "user": "guest"}
environment = {"user": "admin"}
command_line = {}
config = ChainMap(command_line, environment, defaults)
print(config["user"], config["color"], len(config), sorted(config))
child = config.new_child({"color": "blue"})
print(child["color"], config["color"], child.parents["color"], list(child.maps[0]))

Card = namedtuple("Card", "rank suit", defaults=["hearts"])
hand = [Card(r, s) for r, s in [("Q", "spades"), ("2", "clubs")]] + [Card("A")]
print(hand, Card._make(["K", "diamonds"]), hand[0]._replace(rank="J"), Card._field_defaults)
print(max(hand, key=lambda c: "23456789TJQKA".index(c.rank)), hand[2].suit, tuple(hand[1]))
counts["the"] += 1
print(counts["the"], dict(Counter("abracadabra").most_common(2)))
deque([], maxlen=-1)
