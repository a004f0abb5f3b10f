"""Go: random playouts on a small board with captures, liberties and ko, from a seeded RNG.

A compact version of the classic benchmark's idea: many random games
from one position, counting wins per first move (a one-ply Monte Carlo
move choice).
"""

import random

SIZE = 4
EMPTY, BLACK, WHITE = 0, 1, 2
NEIGHBOURS = []
for index in range(SIZE * SIZE):
    row, col = divmod(index, SIZE)
    NEIGHBOURS.append([r * SIZE + c for r, c in ((row - 1, col), (row + 1, col), (row, col - 1), (row, col + 1))
                       if 0 <= r < SIZE and 0 <= c < SIZE])


class Board:
    def __init__(self):
        self.cells = [EMPTY] * (SIZE * SIZE)
        self.ko = None
        self.to_move = BLACK
        self.passes = 0

    def copy(self):
        other = Board()
        other.cells = self.cells[:]
        other.ko, other.to_move, other.passes = self.ko, self.to_move, self.passes
        return other

    def group(self, start):
        colour = self.cells[start]
        stones, liberties, todo = {start}, set(), [start]
        while todo:
            point = todo.pop()
            for n in NEIGHBOURS[point]:
                if self.cells[n] == EMPTY:
                    liberties.add(n)
                elif self.cells[n] == colour and n not in stones:
                    stones.add(n)
                    todo.append(n)
        return stones, liberties

    def legal(self, point):
        if self.cells[point] != EMPTY or point == self.ko:
            return False
        self.cells[point] = self.to_move
        try:
            enemy = 3 - self.to_move
            for n in NEIGHBOURS[point]:
                if self.cells[n] == enemy and not self.group(n)[1]:
                    return True
            return bool(self.group(point)[1])
        finally:
            self.cells[point] = EMPTY

    def play(self, point):
        if point is None:
            self.passes += 1
            self.ko = None
            self.to_move = 3 - self.to_move
            return
        self.passes = 0
        self.cells[point] = self.to_move
        enemy = 3 - self.to_move
        captured = []
        for n in NEIGHBOURS[point]:
            if self.cells[n] == enemy:
                stones, liberties = self.group(n)
                if not liberties:
                    captured.extend(stones)
        for stone in captured:
            self.cells[stone] = EMPTY
        self.ko = captured[0] if len(captured) == 1 else None
        self.to_move = enemy

    def is_eye(self, point, colour):
        return all(self.cells[n] == colour for n in NEIGHBOURS[point])

    def random_move(self, rng):
        order = list(range(SIZE * SIZE))
        rng.shuffle(order)
        for point in order:  # the first legal non-eye point in random order
            if self.cells[point] == EMPTY and not self.is_eye(point, self.to_move) and self.legal(point):
                return point
        return None

    def score(self):
        black = white = 0
        for point, colour in enumerate(self.cells):
            if colour == EMPTY:
                around = {self.cells[n] for n in NEIGHBOURS[point]} - {EMPTY}
                colour = around.pop() if len(around) == 1 else EMPTY
            black += colour == BLACK
            white += colour == WHITE
        return black - white - 0.5

    def playout(self, rng, limit=14):
        for _ in range(limit):
            if self.passes >= 2:
                break
            self.play(self.random_move(rng))
        return self.score()

    def __str__(self):
        marks = ".XO"
        return "\n".join(" ".join(marks[self.cells[r * SIZE + c]] for c in range(SIZE)) for r in range(SIZE))


def best_move(board, rng, games_per_move):
    results = {}
    for point in range(SIZE * SIZE):
        if not board.legal(point):
            continue
        wins = 0
        for _ in range(games_per_move):
            trial = board.copy()
            trial.play(point)
            wins += trial.playout(rng) > 0
        results[point] = wins
    return max(sorted(results), key=lambda p: results[p]), results


rng = random.Random(7)
board = Board()
for turn in range(1):
    move, stats = best_move(board, rng, 1)
    print(f"turn {turn}: {'black' if board.to_move == BLACK else 'white'} plays {divmod(move, SIZE)} "
          f"(wins {stats[move]}/1, {len(stats)} candidates)")
    board.play(move)
print(board)
final = board.copy()
print("random finish score:", final.playout(random.Random(11)))
print(final)
