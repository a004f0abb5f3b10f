"""Conway's Game of Life on a torus with set-based and list-based engines that must agree."""


def parse(picture):
    return {(r, c) for r, line in enumerate(picture.strip().splitlines()) for c, ch in enumerate(line) if ch == "#"}


def step_sets(live, rows, cols):
    counts = {}
    for r, c in live:
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if dr or dc:
                    key = ((r + dr) % rows, (c + dc) % cols)
                    counts[key] = counts.get(key, 0) + 1
    return {cell for cell, n in counts.items() if n == 3 or (n == 2 and cell in live)}


def step_grid(grid):
    rows, cols = len(grid), len(grid[0])
    out = [[0] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            n = sum(grid[(r + dr) % rows][(c + dc) % cols] for dr in (-1, 0, 1) for dc in (-1, 0, 1)) - grid[r][c]
            out[r][c] = 1 if n == 3 or (n == 2 and grid[r][c]) else 0
    return out


def show(live, rows, cols):
    return "\n".join("".join("#" if (r, c) in live else "." for c in range(cols)) for r in range(rows))


START = """
.#........
..#.......
###.......
..........
......##..
......##..
..........
.###......
"""
ROWS, COLS = 8, 10
live = parse(START)
grid = [[1 if (r, c) in live else 0 for c in range(COLS)] for r in range(ROWS)]
history = []
for generation in range(4):
    live = step_sets(live, ROWS, COLS)
    grid = step_grid(grid)
    assert live == {(r, c) for r in range(ROWS) for c in range(COLS) if grid[r][c]}, generation
    history.append(len(live))
print(history)
print(show(live, ROWS, COLS))
seen = {}
state = frozenset(parse(START))
for generation in range(30):
    if state in seen:
        print("cycle: generation", generation, "repeats", seen[state])
        break
    seen[state] = generation
    state = frozenset(step_sets(state, 6, 6))
else:
    print("no cycle within 30 generations")
