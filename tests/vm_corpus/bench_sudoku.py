"""Sudoku: constraint propagation (naked singles) plus backtracking with minimum-remaining-values."""

PUZZLE = """
53..7....
6..195...
.98....6.
8...6...3
4..8.3..1
7...2...6
.6....28.
...419..5
....8..79
"""


def parse(text):
    return [[int(ch) if ch.isdigit() else 0 for ch in line] for line in text.split()]


def candidates(board, r, c):
    used = set(board[r]) | {board[i][c] for i in range(9)}
    br, bc = 3 * (r // 3), 3 * (c // 3)
    used |= {board[i][j] for i in range(br, br + 3) for j in range(bc, bc + 3)}
    return [d for d in range(1, 10) if d not in used]


def propagate(board):
    changed = True
    filled = 0
    while changed:
        changed = False
        for r in range(9):
            for c in range(9):
                if board[r][c] == 0:
                    options = candidates(board, r, c)
                    if len(options) == 1:
                        board[r][c] = options[0]
                        filled += 1
                        changed = True
    return filled


def solve(board, stats):
    best = None
    for r in range(9):
        for c in range(9):
            if board[r][c] == 0:
                options = candidates(board, r, c)
                if best is None or len(options) < len(best[2]):
                    best = (r, c, options)
    if best is None:
        return True
    r, c, options = best
    for digit in options:
        stats["guesses"] += 1
        board[r][c] = digit
        if solve(board, stats):
            return True
    board[r][c] = 0
    return False


def valid(board):
    groups = [row for row in board] + [[board[r][c] for r in range(9)] for c in range(9)]
    groups += [[board[r][c] for r in range(br, br + 3) for c in range(bc, bc + 3)] for br in (0, 3, 6) for bc in (0, 3, 6)]
    return all(sorted(g) == list(range(1, 10)) for g in groups)


board = parse(PUZZLE)
print("propagated", propagate(board), "cells")
stats = {"guesses": 0}
print("solved", solve(board, stats), "guesses", stats["guesses"], "valid", valid(board))
for row in board:
    print(" ".join(map(str, row)))
