"""Chaos game: an iterated function system of affine maps, sampled with a seeded RNG.

Points are pushed through randomly chosen contractions (weighted by their
determinants), then binned onto a small character grid; prints the grid and
a checksum of the hit counts.
"""

import math
import random


class Affine:
    def __init__(self, a, b, c, d, e, f):
        self.a, self.b, self.c, self.d, self.e, self.f = a, b, c, d, e, f

    def __call__(self, point):
        x, y = point
        return (self.a * x + self.b * y + self.e, self.c * x + self.d * y + self.f)

    @property
    def weight(self):
        return abs(self.a * self.d - self.b * self.c) or 0.01


class ChaosGame:
    def __init__(self, maps, seed):
        self.maps = maps
        self.rng = random.Random(seed)
        total = sum(m.weight for m in maps)
        running = 0.0
        self.cumulative = []
        for m in maps:
            running += m.weight / total
            self.cumulative.append(running)

    def pick(self):
        r = self.rng.random()
        for m, edge in zip(self.maps, self.cumulative):
            if r <= edge:
                return m
        return self.maps[-1]

    def run(self, steps, skip=20):
        point = (0.0, 0.0)
        for _ in range(skip):
            point = self.pick()(point)
        for _ in range(steps):
            point = self.pick()(point)
            yield point


def render(points, width, height):
    points = list(points)
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    grid = [[0] * width for _ in range(height)]
    for x, y in points:
        col = min(width - 1, int((x - lo_x) / (hi_x - lo_x + 1e-12) * width))
        row = min(height - 1, int((hi_y - y) / (hi_y - lo_y + 1e-12) * height))
        grid[row][col] += 1
    return grid


SHADES = " .:-=+*#%@"
fern = [Affine(0.0, 0.0, 0.0, 0.16, 0.0, 0.0), Affine(0.85, 0.04, -0.04, 0.85, 0.0, 1.6),
        Affine(0.2, -0.26, 0.23, 0.22, 0.0, 1.6), Affine(-0.15, 0.28, 0.26, 0.24, 0.0, 0.44)]
sierpinski = [Affine(0.5, 0, 0, 0.5, 0, 0), Affine(0.5, 0, 0, 0.5, 0.5, 0), Affine(0.5, 0, 0, 0.5, 0.25, 0.5)]
spiral = [Affine(0.787879 * math.cos(0.3), -0.424242, 0.242424, 0.859848, 1.758647, 1.408065),
          Affine(-0.121212, 0.257576, 0.151515, 0.053030, -6.721654, 1.377236),
          Affine(0.181818, -0.136364, 0.090909, 0.181818, 6.086107, 1.568035)]

for name, maps, seed in (("fern", fern, 1), ("sierpinski", sierpinski, 2), ("spiral", spiral, 3)):
    game = ChaosGame(maps, seed)
    grid = render(game.run(500), 32, 12)
    peak = max(max(row) for row in grid)
    print(name)
    for row in grid:
        print("  " + "".join(SHADES[min(9, (cell * 9 + peak - 1) // peak)] for cell in row))
    checksum = sum((i + 1) * (j + 1) * cell for i, row in enumerate(grid) for j, cell in enumerate(row))
    print("  checksum", checksum % 1000003)
