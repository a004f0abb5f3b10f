"""A hand-written LRU cache (doubly linked list + dict) with TTL by logical clock, stats and a memoize decorator."""


class _Node:
    __slots__ = ("key", "value", "expires", "prev", "next")

    def __init__(self, key=None, value=None, expires=None):
        self.key, self.value, self.expires = key, value, expires
        self.prev = self.next = None


class LRUCache:
    def __init__(self, capacity, ttl=None):
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity, self.ttl, self.clock = capacity, ttl, 0
        self.map = {}
        self.head, self.tail = _Node(), _Node()
        self.head.next, self.tail.prev = self.tail, self.head
        self.hits = self.misses = self.evictions = 0

    def _unlink(self, node):
        node.prev.next, node.next.prev = node.next, node.prev

    def _push_front(self, node):
        node.next, node.prev = self.head.next, self.head
        self.head.next.prev = node
        self.head.next = node

    def tick(self, amount=1):
        self.clock += amount

    def get(self, key, default=None):
        node = self.map.get(key)
        if node is None or (node.expires is not None and node.expires <= self.clock):
            if node is not None:
                self._unlink(node)
                del self.map[key]
            self.misses += 1
            return default
        self.hits += 1
        self._unlink(node)
        self._push_front(node)
        return node.value

    def put(self, key, value):
        if key in self.map:
            self._unlink(self.map.pop(key))
        elif len(self.map) >= self.capacity:
            oldest = self.tail.prev
            self._unlink(oldest)
            del self.map[oldest.key]
            self.evictions += 1
        node = _Node(key, value, None if self.ttl is None else self.clock + self.ttl)
        self.map[key] = node
        self._push_front(node)

    def keys(self):
        node, out = self.head.next, []
        while node is not self.tail:
            out.append(node.key)
            node = node.next
        return out

    def __len__(self):
        return len(self.map)


def memoize(cache):
    def decorate(fn):
        def wrapper(*args):
            sentinel = object()
            result = cache.get(args, sentinel)
            if result is sentinel:
                result = fn(*args)
                cache.put(args, result)
            return result
        wrapper.cache = cache
        return wrapper
    return decorate


cache = LRUCache(3)
for key in "abcabdeab":
    if cache.get(key) is None:
        cache.put(key, key.upper())
print(cache.keys(), cache.hits, cache.misses, cache.evictions, len(cache))
timed = LRUCache(10, ttl=3)
timed.put("session", 1)
timed.tick(2)
print(timed.get("session"))
timed.tick(1)
print(timed.get("session", "expired"), len(timed))


@memoize(LRUCache(50))
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


print(fib(60), fib.cache.hits, fib.cache.misses, len(fib.cache))
LRUCache(0)
