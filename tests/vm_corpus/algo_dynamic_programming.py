"""Dynamic programming: edit distance with alignment, LCS, 0/1 knapsack with reconstruction, coin change, LIS."""

from functools import lru_cache


def edit_distance(a, b):
    rows, cols = len(a) + 1, len(b) + 1
    table = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        table[i][0] = i
    for j in range(cols):
        table[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
    ops, i, j = [], len(a), len(b)
    while i or j:
        if i and j and table[i][j] == table[i - 1][j - 1] + (a[i - 1] != b[j - 1]):
            ops.append("=" if a[i - 1] == b[j - 1] else f"~{b[j - 1]}")
            i, j = i - 1, j - 1
        elif i and table[i][j] == table[i - 1][j] + 1:
            ops.append(f"-{a[i - 1]}")
            i -= 1
        else:
            ops.append(f"+{b[j - 1]}")
            j -= 1
    return table[-1][-1], "".join(reversed(ops))


def lcs(a, b):
    @lru_cache(maxsize=None)
    def go(i, j):
        if i == len(a) or j == len(b):
            return ""
        if a[i] == b[j]:
            return a[i] + go(i + 1, j + 1)
        left, right = go(i + 1, j), go(i, j + 1)
        return left if len(left) >= len(right) else right
    return go(0, 0)


def knapsack(items, capacity):
    best = [[0] * (capacity + 1) for _ in range(len(items) + 1)]
    for i, (name, weight, value) in enumerate(items, 1):
        for c in range(capacity + 1):
            best[i][c] = best[i - 1][c]
            if weight <= c and best[i - 1][c - weight] + value > best[i][c]:
                best[i][c] = best[i - 1][c - weight] + value
    chosen, c = [], capacity
    for i in range(len(items), 0, -1):
        if best[i][c] != best[i - 1][c]:
            chosen.append(items[i - 1][0])
            c -= items[i - 1][1]
    return best[-1][-1], sorted(chosen)


def coin_change(coins, amount):
    ways = [1] + [0] * amount
    fewest = [0] + [None] * amount
    for coin in coins:
        for total in range(coin, amount + 1):
            ways[total] += ways[total - coin]
    for total in range(1, amount + 1):
        options = [fewest[total - c] for c in coins if c <= total and fewest[total - c] is not None]
        fewest[total] = min(options) + 1 if options else None
    return ways[amount], fewest[amount]


def longest_increasing(seq):
    import bisect
    tails, links, positions = [], [None] * len(seq), []
    for i, value in enumerate(seq):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            positions.append(i)
        else:
            tails[k] = value
            positions[k] = i
        links[i] = positions[k - 1] if k else None
    out, i = [], positions[-1] if positions else None
    while i is not None:
        out.append(seq[i])
        i = links[i]
    return out[::-1]


for a, b in [("kitten", "sitting"), ("flaw", "lawn"), ("", "abc"), ("intention", "execution")]:
    print(a, b, edit_distance(a, b))
print(repr(lcs("AGGTAB", "GXTXAYB")), repr(lcs("programming", "gaming")))
ITEMS = [("map", 9, 150), ("compass", 13, 35), ("water", 153, 200), ("sandwich", 50, 160), ("glucose", 15, 60),
         ("tin", 68, 45), ("banana", 27, 60), ("apple", 39, 40), ("cheese", 23, 30)]
print(knapsack(ITEMS, 200))
print(coin_change([1, 5, 10, 25], 63), coin_change([4, 7], 5), coin_change([2], 0))
print(longest_increasing([3, 10, 2, 1, 20, 4, 6, 7, 30, 5]), longest_increasing([]))
