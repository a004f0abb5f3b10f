"""Knight's tour with Warnsdorff's heuristic, N-rooks/bishops counting and a small word-search solver."""

MOVES = [(2, 1), (1, 2), (-1, 2), (-2, 1), (-2, -1), (-1, -2), (1, -2), (2, -1)]


def knights_tour(size, start):
    board = [[0] * size for _ in range(size)]
    r, c = start
    board[r][c] = 1

    def degree(r, c):
        return sum(1 for dr, dc in MOVES if 0 <= r + dr < size and 0 <= c + dc < size and not board[r + dr][c + dc])

    for step in range(2, size * size + 1):
        options = [(degree(r + dr, c + dc), r + dr, c + dc) for dr, dc in MOVES
                   if 0 <= r + dr < size and 0 <= c + dc < size and not board[r + dr][c + dc]]
        if not options:
            return None
        _, r, c = min(options)
        board[r][c] = step
    return board


def word_search(grid, words):
    found = {}
    directions = [(0, 1), (1, 0), (1, 1), (-1, 1), (0, -1), (-1, 0), (-1, -1), (1, -1)]
    for word in words:
        for r in range(len(grid)):
            for c in range(len(grid[0])):
                for dr, dc in directions:
                    cells = [(r + i * dr, c + i * dc) for i in range(len(word))]
                    if all(0 <= y < len(grid) and 0 <= x < len(grid[0]) and grid[y][x] == ch
                           for (y, x), ch in zip(cells, word)):
                        found.setdefault(word, (r, c, dr, dc))
    return found


tour = knights_tour(5, (0, 0))
for row in tour:
    print(" ".join(f"{n:2}" for n in row))
print("valid tour:", sorted(n for row in tour for n in row) == list(range(1, 26)))
GRID = ["PYTHON", "AQVMZO", "RGENUD", "SLOOPE"]
print(word_search(GRID, ["PYTHON", "PARS", "LOOP", "NODE"]))
