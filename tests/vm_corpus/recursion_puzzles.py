"""Recursive puzzles: hanoi, permutations, subsets, flood fill, memoised partition counts."""


def hanoi(n, source="A", target="C", spare="B"):
    if n == 0:
        return []
    return hanoi(n - 1, source, spare, target) + [(source, target)] + hanoi(n - 1, spare, target, source)


def permutations(items):
    if len(items) <= 1:
        yield list(items)
        return
    for i, item in enumerate(items):
        for rest in permutations(items[:i] + items[i + 1:]):
            yield [item] + rest


def subsets(items):
    if not items:
        return [[]]
    rest = subsets(items[1:])
    return rest + [[items[0]] + s for s in rest]


def flood(grid, r, c, old, new):
    if not (0 <= r < len(grid) and 0 <= c < len(grid[0])) or grid[r][c] != old:
        return 0
    grid[r][c] = new
    return 1 + sum(flood(grid, r + dr, c + dc, old, new) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)))


def partitions(n, memo={}):
    def count(total, largest):
        if total == 0:
            return 1
        if total < 0 or largest == 0:
            return 0
        key = (total, largest)
        if key not in memo:
            memo[key] = count(total - largest, largest) + count(total, largest - 1)
        return memo[key]
    return count(n, n)


moves = hanoi(4)
print(len(moves), moves[:3])
print(["".join(p) for p in permutations("abc")], len(subsets([1, 2, 3, 4])))
grid = [list(row) for row in ["..#..", ".##..", "....#", "###.."]]
print(flood(grid, 0, 0, ".", "o"), ["".join(row) for row in grid])
print([partitions(n) for n in range(1, 15)])


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


print(depth(100))
