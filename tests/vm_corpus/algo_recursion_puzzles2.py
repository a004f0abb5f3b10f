"""Recursion: Towers of Hanoi, permutations, subsets, flood fill, Ackermann (small), mutual recursion, depth limit."""

import sys


def hanoi(n, source, target, spare, moves):
    if n == 0:
        return
    hanoi(n - 1, source, spare, target, moves)
    moves.append((n, source, target))
    hanoi(n - 1, spare, target, source, moves)


def permutations(items):
    if len(items) <= 1:
        return [items]
    result = []
    for i, item in enumerate(items):
        for rest in permutations(items[:i] + items[i + 1:]):
            result.append([item] + rest)
    return result


def subsets_summing(numbers, target, start=0, chosen=()):
    if target == 0:
        yield chosen
        return
    for i in range(start, len(numbers)):
        if numbers[i] <= target:
            yield from subsets_summing(numbers, target - numbers[i], i + 1, chosen + (numbers[i],))


def flood(grid, r, c, old, new):
    if not (0 <= r < len(grid) and 0 <= c < len(grid[0])) or grid[r][c] != old:
        return 0
    grid[r][c] = new
    return 1 + sum(flood(grid, r + dr, c + dc, old, new) for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)))


def ackermann(m, n):
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def depth(nested):
    return 1 + max((depth(x) for x in nested if isinstance(x, list)), default=0)


def flatten(nested):
    for item in nested:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


moves = []
hanoi(4, "A", "C", "B", moves)
print(len(moves), moves[:5], moves[-1])
print(permutations([1, 2, 3]), len(permutations(list("abcde"))))
print(list(subsets_summing([8, 6, 7, 5, 3, 10, 9], 15)))
picture = [list(row) for row in ["..##.", ".#..#", "##..#", "....."]]
print(flood(picture, 0, 0, ".", "~"), ["".join(row) for row in picture])
print([ackermann(m, n) for m in range(3) for n in range(3)], ackermann(2, 3))
print(is_even(30), is_odd(17))
tree = [1, [2, [3, [4]], 5], [[6]]]
print(depth(tree), list(flatten(tree)))


def countdown(n):
    return n if n <= 0 else countdown(n - 1)


print(countdown(150), sys.getrecursionlimit() > 100)


def unbounded(n):
    return unbounded(n + 1)


try:
    unbounded(0)
except RecursionError as error:
    print("RecursionError caught:", type(error).__name__)


def fib_bad(n):
    if n < 0:
        raise ValueError(f"negative index {n}")
    return n if n < 2 else fib_bad(n - 1) + fib_bad(n - 3)


fib_bad(5)
